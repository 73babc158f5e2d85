"""A session picks up a promoted policy between episodes (agent.learn.active.ActivePolicy), never during one."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from agent.learn.registry import SHIPPED, Registry, shipped_checkpoint
from hardware.scene import BOWL_HEIGHT, Scene, SceneObject

TASK = "put the red block in the green bowl"


def table() -> Scene:
    return Scene(objects=[
        SceneObject("red block", "block", "red", 0.04, (0.48, -0.1, 0.02)),
        SceneObject("green bowl", "bowl", "green", 0.16, (0.54, 0.12, BOWL_HEIGHT / 2), mass=0.3),
    ])


def candidate(tmp: Path, name: str, word: str) -> Path:
    """A registered checkpoint: the shipped weights, with ``word`` added to its vocabulary (so it can be told apart)."""
    out = tmp / name
    shutil.copytree(shipped_checkpoint(), out)
    cfg = json.loads((out / "config.json").read_text())
    cfg["vocab"] = sorted(set(cfg["vocab"]) | {word})
    (out / "config.json").write_text(json.dumps(cfg))
    return out


@pytest.fixture()
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Registry:
    monkeypatch.setenv("ROBOCORRECT_HOME", str(tmp_path / "home"))
    return Registry()


def test_active_policy_reloads_only_when_the_registry_changes(registry: Registry, tmp_path: Path) -> None:
    from agent.factory import make_policy
    from agent.learn.active import ActivePolicy

    pol = make_policy("embedded", checkpoint="active")
    assert isinstance(pol, ActivePolicy) and pol.active == SHIPPED
    assert pol.between_episodes() is None  # nothing promoted: the same policy object stays
    first = pol.inner
    assert pol.between_episodes() is None and pol.inner is first

    ck = candidate(tmp_path, "r001", "starboard")
    registry.add("r001", ck, {})
    assert pol.between_episodes() is None  # registered but not promoted
    registry.promote("r001")
    assert pol.between_episodes() == "r001" and pol.checkpoint == ck.resolve()
    assert "starboard" in pol.inner.vocab

    registry.rollback()
    assert pol.between_episodes() == SHIPPED and "starboard" not in pol.inner.vocab


def test_a_broken_promotion_keeps_the_policy_in_use(registry: Registry, tmp_path: Path) -> None:
    from agent.learn.active import ActivePolicy

    pol = ActivePolicy()
    broken = tmp_path / "r001"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    registry.add("r001", broken, {})
    registry.promote("r001")
    assert pol.between_episodes() is None and pol.active == SHIPPED
    g = pol.ground(table().to_contract(), TASK, [{"skill": "pick", "args": {"object": "red block"}}], 0, [], [], "a bit to the left")
    assert g.level == "skill"


def test_a_session_uses_the_promoted_policy_from_its_next_episode(registry: Registry, tmp_path: Path) -> None:
    from agent.factory import make_policy
    from agent.session import SessionConfig, TeachingSession
    from sim.world import SimWorld

    pol = make_policy("embedded", checkpoint="active")
    world = SimWorld(table())
    try:
        session = TeachingSession.for_sim(world, pol, config=SessionConfig(frames=False))
        session.start(TASK, table())
        ck = candidate(tmp_path, "r001", "starboard")
        registry.add("r001", ck, {})
        registry.promote("r001")  # e.g. by `robocorrect retrain --watch` in another process
        session.correct("a bit to the left")
        assert pol.active == SHIPPED  # the episode under way keeps the policy it started with
        session.finish(True)
        session.start(TASK, table())
        assert pol.active == "r001" and "starboard" in pol.inner.vocab
        session.finish(True)
    finally:
        world.close()
