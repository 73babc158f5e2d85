"""A session process killed (SIGKILL) in the middle of an episode leaves a readable log; the next open marks it aborted."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from memory.episodes import EpisodeLog

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import sys
sys.path.insert(0, {root!r})
from agent.channel import ScriptedChannel
from agent.session import SessionConfig, TeachingSession
from memory.episodes import EpisodeLog
from hardware.scene import BOWL_HEIGHT, Scene, SceneObject
from sim.world import SimWorld

scene = Scene(objects=[SceneObject("red block", "block", "red", 0.04, (0.46, -0.1, 0.02)),
                       SceneObject("green bowl", "bowl", "green", 0.16, (0.54, 0.12, BOWL_HEIGHT / 2), mass=0.3)])
plan = [{{"skill": "pick", "args": {{"object": "red block"}}}},
        {{"skill": "place", "args": {{"target": "green bowl", "speed": 0.1}}}},  # slow: killed while it runs
        {{"skill": "home", "args": {{}}}}]
log = EpisodeLog({log!r})
session = TeachingSession.for_sim(SimWorld(scene), None, log=log, config=SessionConfig(frame_size=(64, 48)))

def on_event(ev):
    if ev.kind == "step_end":
        print("STEP", ev.data["step"], session.episode_id, flush=True)

session.subscribe(on_event)
session.run_episode("put the red block in the green bowl", ScriptedChannel([]), scene=scene, plan=plan)
print("FINISHED", flush=True)
"""


def test_killed_session_process_leaves_an_intact_log_marked_aborted(tmp_path: Path) -> None:
    root = tmp_path / "episodes"
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(CHILD.format(root=str(ROOT), log=str(root)))],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    try:
        line: list[str] = []
        for raw in proc.stdout:  # pybullet prints its own lines to stdout first
            line = raw.split()
            if line[:1] in (["STEP"], ["FINISHED"]):
                break
        assert line[:2] == ["STEP", "0"], line
        eid = line[2]
        os.kill(proc.pid, signal.SIGKILL)  # while step 1 (the slow place) moves
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    with EpisodeLog(root) as log:
        assert eid in log.repaired
        rec = log.load(eid)
        assert rec["status"] == "aborted" and rec["success"] is None and rec["ended"] is not None
        assert rec["task"] == "put the red block in the green bowl" and len(rec["initial_plan"]) == 3
        assert [s["index"] for s in rec["steps"]] == [0] and rec["steps"][0]["outcome"]["success"] is True
        assert len(rec["frames"]) == 2 and all(log.media_path(f).stat().st_size > 0 for f in rec["frames"])
        info = log.export(tmp_path / "dataset")
        assert info["total_episodes"] == 1 and info["total_frames"] == 1
    with EpisodeLog(root) as again:  # repaired once, stays repaired
        assert again.repaired == [] and again.load(eid)["status"] == "aborted"
