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
    from hardware.errors import UsageError

    out = io.StringIO()
    with pytest.raises(UsageError, match="no scene file"):
        repl.run(_args(tmp_path, scene=str(tmp_path / "nope.json")), stdin=io.StringIO(""), console=Console(file=out))


def test_text_that_is_not_a_task_moves_nothing_and_a_late_correction_is_not_a_task(tmp_path: Path) -> None:
    """At the task prompt, "hello", "asdf qwer", "slower" and "no, the blue one" get a question and no episode;
    "a bit more" after the episode ended is not a new task that takes the block back out of the bowl."""
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
    text = f"hello\nasdf qwer\nslower\nno, the blue one\nput the {block} in the {bowl}\ndone\na bit more\n"
    out = io.StringIO()
    rc = repl.run(_args(tmp_path), stdin=io.StringIO(text), console=Console(file=out, width=200))
    printed = out.getvalue()
    assert rc == 0, printed
    for said in ("hello", "asdf qwer", "slower", "no, the blue one", "a bit more"):
        assert f"you: {said}\n  robot: " in printed, said
    assert printed.count("▶ step 0") == 1, "only the task moved the arm"
    assert "the episode has ended; type a new task" in printed
    with EpisodeLog(tmp_path / "episodes") as log:
        rows = log.list()
    assert len(rows) == 1 and rows[0]["status"] == "success"
