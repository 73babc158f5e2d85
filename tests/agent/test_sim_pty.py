"""`robocorrect sim` driven end to end through a pseudo-terminal, as a person types: text that is not a task,
a task, a retarget and an undo while the arm works, corrections at two moments of a place, the message that
the goal holds and the episode ends, and a late correction after success that is not a new task."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

ROOT = Path(__file__).resolve().parents[2]


def test_sim_through_a_terminal(tmp_path: Path) -> None:
    log_dir = tmp_path / "episodes"
    child = pexpect.spawn(sys.executable, ["-m", "agent.cli", "sim", "--seed", "0", "--log", str(log_dir), "--no-frames",
                                           "--rate", "2", "--confirm-wait", "3"],
                          cwd=str(ROOT), encoding="utf-8", timeout=120, dimensions=(50, 200),
                          env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TERM": "dumb"})
    child.logfile_read = open(tmp_path / "screen.txt", "w")  # noqa: SIM115 - closed with the child
    try:
        child.expect("task>")
        child.sendline("hello")
        child.expect("did not understand 'hello' as a task")
        child.sendline("put the blue block in the yellow bowl")
        child.expect("step 0 pick: ok")
        child.sendline("no, the orange one")  # retarget: the blue block is already in the hand
        child.expect("picked up the orange block")
        child.sendline("undo")  # back to the blue block: the arm must put the orange one down and pick blue again
        child.expect("picked up the blue block")
        child.expect("▶ step 1: place")
        child.sendline("a bit more to the left")  # early in the place
        time.sleep(0.6)
        child.sendline("1 cm further forward")  # later in the place (or after it: then the place is redone)
        child.expect("the goal holds; the episode ends as a success in 3 s")
        child.expect("episode success")
        child.expect("type a new task")
        child.sendline("a bit more")  # late: the episode has ended
        child.expect("sounds like a correction, but no episode is running")
        child.sendline("quit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
        child.logfile_read.close()
    screen = (tmp_path / "screen.txt").read_text()
    after_success = screen[screen.index("episode success"):]
    assert "▶ step" not in after_success, "the late correction moved the arm"
    from memory.episodes import EpisodeLog

    with EpisodeLog(log_dir) as log:
        rows = log.list()
        assert len(rows) == 1 and rows[0]["status"] == "success"
        rec = log.load(rows[0]["id"])
    final = rec["final_plan"]
    assert final[0]["args"]["object"] == "blue block"
    off = final[1]["args"]["offset"]
    assert off[1] > 0.005 and off[0] > 0.005, json.dumps(final)
    last_place = [s for s in rec["steps"] if s["call"]["skill"] == "place"][-1]
    assert last_place["outcome"]["success"] and "blue block" in last_place["outcome"]["message"]
    assert "forward" in last_place["outcome"]["message"] and "left" in last_place["outcome"]["message"]
