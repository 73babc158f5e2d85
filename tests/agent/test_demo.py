"""`robocorrect demo` runs headless end to end and succeeds: two corrections (one during motion), an image strip."""
from __future__ import annotations

from pathlib import Path

import pytest

from agent.policy import PolicyError


def test_demo_runs_and_succeeds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from agent import demo

    try:
        from agent.factory import make_policy

        make_policy("embedded")
    except PolicyError as e:
        pytest.skip(f"embedded policy not available: {e}")
    rc = demo.main(["--out", str(tmp_path), "--seed", "0"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "SUCCESS" in out and "(while the arm moves)" in out
    assert "offset x +" in out  # the changes, in words and numbers
    strip = tmp_path / "demo_strip.png"
    assert strip.exists() and f"image strip: {strip.resolve()}" in out
    import cv2

    img = cv2.imread(str(strip))
    assert img is not None and img.shape[1] > img.shape[0]  # frames side by side
    from memory.episodes import EpisodeLog

    with EpisodeLog(tmp_path / "episodes") as log:
        (rec,) = [log.load(i) for i in log.ids()]
    assert rec["status"] == "success" and len(rec["corrections"]) == 2
    assert [c["during_motion"] for c in rec["corrections"]] == [True, False]
