"""One kind, one class: every quirk kind answers its physics, what fixes it and what a user sees in one place, and a
new kind is added by one new file (here a toy kind defined in this test module), with no string if-chains elsewhere."""
from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest

from hardware.scene import Quirk, Scene, SceneObject
from sim.quirk_kinds import KINDS, QuirkKind, Violation, get_kind, kind_names, unregister
from sim.quirk_kinds.base import BLOCK
from sim.quirks import add_quirk, fixing_args, plan_satisfies, quirk_satisfied

ROOT = Path(__file__).resolve().parents[2]
SCENE = Scene(objects=[SceneObject("red block", "block", "red", 0.04, (0.55, -0.1, 0.02)),
                       SceneObject("green bowl", "bowl", "green", 0.16, (0.45, 0.25, 0.03))])


def test_the_six_kinds_are_registered_with_their_answers():
    assert set(kind_names()) >= {"small_grasp", "slippery", "heavy", "tall_neighbor", "offcenter_drop", "placement_pref"}
    for name in kind_names():
        k = get_kind(name)
        assert k.args and all(skill in ("pick", "place") for skill, _ in k.args)
        assert k.physical == bool(k.symptoms), name  # a physical quirk shows itself; a wish does not


def test_no_string_if_chains_over_kinds_outside_the_kind_files():
    files = [ROOT / "sim" / "quirks.py", ROOT / "sim" / "user.py", ROOT / "sim" / "tasks.py", ROOT / "sim" / "oracle.py",
             ROOT / "sim" / "observe.py", *sorted((ROOT / "agent" / "bench").glob("teach*.py"))]
    for f in files:
        text = f.read_text()
        for name in kind_names():
            assert not re.search(rf"[\"']{name}[\"']", text), f"{f.name} names the kind {name!r}"


class Wobbly(QuirkKind):
    """A toy kind: a wobbly block needs a slow pick (speed <= params['max_speed'])."""

    name = "wobbly_toy"
    on = BLOCK
    args = (("pick", "speed"),)
    symptoms = ("dropped",)
    default_on = False

    def realise(self, scene: Scene, o: SceneObject, rng: random.Random, magnitude: dict[str, Any]) -> dict[str, Any]:
        o.friction = 0.3
        return {"max_speed": float(magnitude.get("max_speed", 0.5))}

    def _ok(self, p: dict[str, Any], a: dict[str, Any]) -> bool:
        return float(a["speed"]) <= p["max_speed"]

    def fixing_args(self, quirk: Quirk) -> tuple[str, dict[str, Any]]:
        return "pick", {"speed": quirk.params["max_speed"] - 0.1}

    def _violations(self, quirk: Quirk, a: dict[str, Any], tol: Any) -> list[Violation]:
        e = quirk.params["max_speed"] - float(a["speed"])
        return [Violation("speed", "speed", e)] if e < 0 else []


@pytest.fixture
def toy():
    yield KINDS["wobbly_toy"]
    unregister("wobbly_toy")
    KINDS.setdefault("wobbly_toy", toy_kind)  # keep the module-level registration for a rerun in this process


toy_kind = KINDS["wobbly_toy"]


def test_a_new_kind_is_one_class_and_everything_uses_it(toy):
    from sim.oracle import OracleConfig, OracleUser
    from sim.tasks import HouseRules, TaskGenerator

    assert "wobbly_toy" in kind_names() and "wobbly_toy" not in kind_names(default_only=True)
    s = add_quirk(SCENE, "wobbly_toy", "red block", random.Random(0), {"max_speed": 0.4})
    q = s.quirks[-1]
    assert q.params == {"max_speed": 0.4} and s.get("red block").friction == 0.3
    plan = [{"skill": "pick", "args": {"object": "red block"}}, {"skill": "place", "args": {"target": "green bowl"}}]
    assert not plan_satisfies(q, plan) and quirk_satisfied(q, "place", {"target": "green bowl"})
    skill, fix = fixing_args(q)
    assert quirk_satisfied(q, skill, {"object": "red block", **fix})
    with pytest.raises(Exception, match="needs a block"):
        add_quirk(SCENE, "wobbly_toy", "green bowl")
    said = OracleUser(s, [("red block", "green bowl")], config=OracleConfig(number_rate=0.0)).before_step(plan, 0)
    assert (said.intent, said.sign) == ("speed", -1)
    rules = HouseRules.draw(0, kinds=("wobbly_toy", "slippery"))
    assert set(rules.kinds) == {"wobbly_toy", "slippery"}
    g = TaskGenerator(0, kinds=("wobbly_toy", "slippery"))
    ts = g.round(1, 6)
    toy_tasks = [t for t in ts if "wobbly_toy" in t.kinds]
    assert toy_tasks
    t = toy_tasks[0]
    p = [{"skill": "pick", "args": {"object": o}} for o, _ in t.goal]
    assert any("speed" in t.allowed_for_step(p, i) for i in range(len(p)))
