"""robocorrect ground --audio-dir: a case with DIR/<id>.wav is grounded from its transcript."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_ground_from_recordings(say, whisper, tmp_path) -> None:
    pytest.importorskip("faster_whisper")
    lines = (ROOT / "tests" / "speech" / "data" / "heldout_corrections.jsonl").read_text().splitlines()[:2]
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(lines) + "\n")
    first = json.loads(lines[0])
    audio = tmp_path / "wav"
    audio.mkdir()
    say(first["utterance"]).replace(audio / f"{first['id']}.wav")  # only the first case is spoken
    out = tmp_path / "ans.jsonl"
    assert main(["ground", str(cases), "--audio-dir", str(audio), "--out", str(out)]) == 0
    rows = [json.loads(l) for l in out.read_text().splitlines()]
    assert "transcript" in rows[0] and "left" in rows[0]["transcript"].lower()
    assert "transcript" not in rows[1]


def test_missing_audio_dir_is_one_error_line(tmp_path, capsys) -> None:
    cases = tmp_path / "c.jsonl"
    cases.write_text((ROOT / "tests" / "speech" / "data" / "heldout_corrections.jsonl").read_text().splitlines()[0] + "\n")
    assert main(["ground", str(cases), "--audio-dir", str(tmp_path / "nope"), "--out", str(tmp_path / "a.jsonl")]) == 2
    assert capsys.readouterr().err.startswith("error: --audio-dir")
