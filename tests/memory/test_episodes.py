"""The episode log: crash-safe writing, repair on open, the shared record, the CLI and the LeRobot-style export."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from memory.episodes import EpisodeLog, EpisodeLogError

ROOT = Path(__file__).resolve().parents[2]
SCENE = {"seed": None, "objects": [{"name": "red block", "kind": "block", "color": "red", "size": 0.04, "position": [0.5, 0.1, 0.02]}],
         "quirks": []}
PLAN = [{"skill": "pick", "args": {"object": "red block", "offset": [0.0, 0.0, 0.0], "yaw": 0.0, "speed": 1.0, "force": 20.0, "height": 0.1}},
        {"skill": "place", "args": {"target": "center", "offset": [0.0, 0.0, 0.0], "yaw": 0.0, "speed": 1.0, "height": 0.1}}]


def _episode(log: EpisodeLog, success: bool | None = True) -> str:
    eid = log.begin("put the red block in the center", SCENE, "test", PLAN, PLAN, [{"id": 3, "text": "k", "effect": {}}])
    log.save_frame(eid, np.zeros((24, 32, 3), np.uint8), "start")
    log.log_step(eid, 0, PLAN[0], {"skill": "pick", "success": True, "message": "", "failure": None})
    after = json.loads(json.dumps(PLAN))
    after[1]["args"]["offset"][1] = 0.015
    log.log_correction(eid, {"utterance": "a bit to the left", "step": 1, "level": "skill", "before": PLAN, "after": after,
                             "changes": ["step 1 place: offset y +1.5 cm"], "parsed": {}, "t": time.time(), "during_motion": True})
    log.log_step(eid, 1, after[1], {"skill": "place", "success": True, "message": "landed", "failure": None})
    log.save_frame(eid, np.full((24, 32, 3), 200, np.uint8), "after_step_1")
    if success is not None:
        log.end(eid, success, final_plan=after)
    return eid


def test_record_round_trip(tmp_path: Path) -> None:
    with EpisodeLog(tmp_path) as log:
        eid = _episode(log)
        rec = log.load(eid)
    assert rec["status"] == "success" and rec["success"] is True
    assert rec["task"] == "put the red block in the center" and rec["scene"] == SCENE
    assert rec["base_plan"] == PLAN and rec["initial_plan"] == PLAN
    assert rec["final_plan"][1]["args"]["offset"] == [0.0, 0.015, 0.0]
    assert [s["index"] for s in rec["steps"]] == [0, 1]
    assert rec["corrections"][0]["changes"] == ["step 1 place: offset y +1.5 cm"] and rec["corrections"][0]["during_motion"]
    assert len(rec["frames"]) == 2 and all((tmp_path / f).exists() for f in rec["frames"])
    assert rec["knowledge_used"][0]["id"] == 3
    assert rec["ended"] >= rec["started"]
    # the WAL journal is on
    import sqlite3
    assert sqlite3.connect(tmp_path / "episodes.db").execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_bad_use_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    with EpisodeLog(tmp_path) as log:
        eid = _episode(log)
        with pytest.raises(EpisodeLogError, match="has ended"):
            log.log_step(eid, 2, PLAN[0], {"success": True})
        with pytest.raises(EpisodeLogError, match="no episode 'nope'"):
            log.load("nope")
        with pytest.raises(EpisodeLogError, match="no episode"):
            log.resolve("zzz")
        assert log.resolve("-1") == eid and log.resolve(eid[:10]) == eid
        assert len(log.load(eid)["steps"]) == 2


def test_killed_writer_leaves_a_readable_log_marked_aborted(tmp_path: Path) -> None:
    code = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from memory.episodes import EpisodeLog
        log = EpisodeLog({str(tmp_path)!r})
        eid = log.begin("task", {{"objects": []}}, "test", [], [])
        for i in range(1000):
            log.log_step(eid, i, {{"skill": "home", "args": {{}}}}, {{"skill": "home", "success": True}})
            if i == 3:
                print(eid, flush=True)
            time.sleep(0.002)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    eid = proc.stdout.readline().strip()
    time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with EpisodeLog(tmp_path) as log:
        assert eid in log.repaired
        rec = log.load(eid)
    assert rec["status"] == "aborted" and rec["success"] is None
    assert len(rec["steps"]) >= 4 and [s["index"] for s in rec["steps"]] == list(range(len(rec["steps"])))


def test_live_writer_is_not_marked_aborted(tmp_path: Path) -> None:
    with EpisodeLog(tmp_path) as a:
        eid = a.begin("task", {"objects": []}, "test", [], [])
        with EpisodeLog(tmp_path) as b:  # a second reader while this process still writes
            assert b.repaired == [] and b.load(eid)["status"] == "running"


def test_cli_list_show_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log_dir = tmp_path / "log"
    with EpisodeLog(log_dir) as log:
        e1 = _episode(log, True)
        e2 = _episode(log, False)
        e3 = _episode(log, None)  # still running in this process: not exported by default
    from agent.cli import main

    def cli(*argv: str) -> int:
        return main(["episodes", "--log", str(log_dir), *argv])

    assert cli("list") == 0
    out = capsys.readouterr().out
    assert e1 in out and e2 in out and "success" in out and "failure" in out
    assert cli("show", e1) == 0
    out = capsys.readouterr().out
    assert "a bit to the left" in out and "offset y +1.5 cm" in out and "(during motion)" in out
    assert cli("show", "nope") == 1
    assert capsys.readouterr().err.startswith("error: ")
    ds = tmp_path / "ds"
    assert cli("export", str(ds)) == 0
    info = json.loads((ds / "meta" / "info.json").read_text())
    assert info["codebase_version"] == "v3.0" and info["total_episodes"] == 2 and info["total_frames"] == 4
    data = pq.read_table(ds / "data" / "chunk-000" / "file-000.parquet").to_pylist()
    assert [r["episode_index"] for r in data] == [0, 0, 1, 1]
    assert data[1]["skill.name"] == "place" and abs(data[1]["action"][2] - 0.015) < 1e-6
    assert data[1]["observation.image"]["bytes"].startswith(b"\x89PNG")
    assert data[1]["language.interjection"] == "a bit to the left"  # said while step 1 ran
    eps = pq.read_table(ds / "meta" / "episodes" / "chunk-000" / "file-000.parquet").to_pylist()
    assert [e["success"] for e in eps] == [True, False] and e3 not in {e["episode_id"] for e in eps}
    assert eps[1]["dataset_from_index"] == 2 and eps[1]["dataset_to_index"] == 4
    tasks = pq.read_table(ds / "meta" / "tasks.parquet").to_pylist()
    assert tasks == [{"task_index": 0, "task": "put the red block in the center"}]
    lang = pq.read_table(ds / "meta" / "language_events.parquet").to_pylist()
    assert lang[0]["style"] == "interjection" and lang[0]["text"] == "a bit to the left"
    assert lang[0]["grounded_change"] == "step 1 place: offset y +1.5 cm"
    # a folder that is not a dataset is never overwritten
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    assert cli("export", str(other)) == 1
    assert (other / "keep.txt").exists()


def _log_with_episodes(tmp_path: Path) -> Path:
    with EpisodeLog(tmp_path / "log") as log:
        _episode(log, True)
    return tmp_path / "log"


def test_export_never_deletes_files_it_did_not_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Someone's own LeRobot dataset (it has meta/info.json) is refused, untouched; a README put beside an
    earlier export survives the next export into the same folder; only the export's own files are replaced."""
    from agent.cli import main

    log_dir = _log_with_episodes(tmp_path)
    theirs = tmp_path / "their_dataset"
    (theirs / "meta").mkdir(parents=True)
    (theirs / "meta" / "info.json").write_text('{"codebase_version": "v3.0"}')
    (theirs / "data.parquet").write_text("their data")
    assert main(["episodes", "--log", str(log_dir), "export", str(theirs)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "did not write" in err
    assert (theirs / "data.parquet").read_text() == "their data"
    assert (theirs / "meta" / "info.json").read_text() == '{"codebase_version": "v3.0"}'

    ours = tmp_path / "ours"
    assert main(["episodes", "--log", str(log_dir), "export", str(ours)]) == 0
    (ours / "README.md").write_text("my notes")
    (ours / "meta" / "my_notes.txt").write_text("mine")
    stale = ours / "data" / "chunk-000" / "file-000.parquet"  # images are inside the parquet (memory/lerobot_export.py)
    assert stale.is_file()
    assert main(["episodes", "--log", str(log_dir), "export", str(ours)]) == 0  # again, into the same folder
    assert (ours / "README.md").read_text() == "my notes" and (ours / "meta" / "my_notes.txt").read_text() == "mine"
    assert json.loads((ours / "meta" / "info.json").read_text())["total_episodes"] == 1


def test_export_to_a_file_is_an_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from agent.cli import main

    log_dir = _log_with_episodes(tmp_path)
    f = tmp_path / "out.txt"
    f.write_text("keep")
    assert main(["episodes", "--log", str(log_dir), "export", str(f)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "is a file" in err and "Traceback" not in err
    assert f.read_text() == "keep"


def test_episodes_list_takes_log_after_the_action(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from agent.cli import main

    log_dir = _log_with_episodes(tmp_path)
    assert main(["episodes", "list", "--log", str(log_dir)]) == 0
    assert "success" in capsys.readouterr().out
