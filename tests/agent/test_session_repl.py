"""`robocorrect sim` reads piped lines: a task, corrections, done; the episode lands in the log."""
from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from agent.policy import PolicyError


def _args(tmp_path: Path, **kw) -> argparse.Namespace:
    from agent import repl

    p = argparse.ArgumentParser()
    repl.configure(p)
    a = p.parse_args(["--log", str(tmp_path / "episodes"), "--seed", "3", "--confirm-wait", "0.2"])
    for k, v in kw.items():
        setattr(a, k, v)
    return a


def test_piped_session(tmp_path: Path) -> None:
    from rich.console import Console

    from agent import repl
    from memory.episodes import EpisodeLog
    from sim.scene import random_scene

    try:
        from agent.factory import make_policy

        make_policy("embedded")
    except PolicyError as e:
        pytest.skip(f"embedded policy not available: {e}")
    scene = random_scene(3, n_blocks=2, n_bowls=2)
    block = next(o.name for o in scene.objects if o.kind == "block")
    bowl = next(o.name for o in scene.objects if o.kind == "bowl")
    task = f"put the {block} in the {bowl}"
    text = f"{task}\nput it in the purple tray\n1 cm further forward\ndone\n{task}\ndone\n"
    out = io.StringIO()
    rc = repl.run(_args(tmp_path), stdin=io.StringIO(text), console=Console(file=out, width=120))
    printed = out.getvalue()
    assert rc == 0, printed
    assert block in printed and "plan" in printed
    assert "robot:" in printed and "purple" in printed  # a clear question, nothing changed
    assert "change:" in printed and "offset x +1.0 cm" in printed
    with EpisodeLog(tmp_path / "episodes") as log:
        first, second = [log.load(s["id"]) for s in log.list()]  # a line after "done" starts the next episode
    assert first["status"] == "success" and first["task"] == task
    assert first["utterances"] and any(c["changes"] for c in first["corrections"])
    assert second["status"] == "success" and second["task"] == task and second["corrections"] == []


def test_bad_scene_file_is_a_clear_error(tmp_path: Path) -> None:
    from rich.console import Console

    from agent import repl

    out = io.StringIO()
    rc = repl.run(_args(tmp_path, scene=str(tmp_path / "nope.json")), stdin=io.StringIO(""), console=Console(file=out))
    assert rc == 2 and "no scene file" in out.getvalue()
