"""The simulated user cannot read a hidden physical parameter: it is given observations only, and nothing it can
reach carries friction, mass, thresholds, pocket offsets or quirk params."""
from __future__ import annotations

import dataclasses
import random

import pytest

from hardware.scene import Quirk, Scene, SceneObject
from sim.observe import IN, ON_RIM, Observation, Observer, Seen, visible_scene
from sim.phrases import PhraseBank
from sim.quirks import add_quirk
from sim.user import SimulatedUser, UserConfig, Wish

HIDDEN = ("friction", "mass", "params", "quirks", "min_force", "max_dz", "pocket", "tol_hidden", "world", "scene")


def quirky_scene() -> Scene:
    s = Scene(objects=[
        SceneObject("red block", "block", "red", 0.04, (0.55, -0.1, 0.02), yaw=0.2),
        SceneObject("small blue block", "block", "blue", 0.03, (0.5, 0.05, 0.015)),
        SceneObject("green bowl", "bowl", "green", 0.16, (0.45, 0.25, 0.03)),
    ])
    s = add_quirk(s, "slippery", "red block", random.Random(0))
    s = add_quirk(s, "small_grasp", "small blue block", random.Random(0))
    return add_quirk(s, "offcenter_drop", "green bowl", random.Random(0))


def _reachable(root, seen=None):
    """Every object reachable from ``root`` through attributes, containers and dataclass fields."""
    seen = set() if seen is None else seen
    stack = [root]
    while stack:
        o = stack.pop()
        if id(o) in seen or isinstance(o, (str, int, float, bool, type(None))):
            continue
        seen.add(id(o))
        yield o
        if isinstance(o, dict):
            stack.extend(o.keys())
            stack.extend(o.values())
        elif isinstance(o, (list, tuple, set, frozenset)):
            stack.extend(o)
        elif hasattr(o, "__dict__") and not isinstance(o, type) and not callable(o) or dataclasses.is_dataclass(o):
            stack.extend(vars(o).values() if hasattr(o, "__dict__") else [getattr(o, f.name) for f in dataclasses.fields(o)])
        elif hasattr(o, "__slots__"):
            stack.extend(getattr(o, n) for n in o.__slots__ if hasattr(o, n))


def test_observations_carry_no_hidden_field_and_cannot_be_changed():
    names = {f.name for f in dataclasses.fields(Observation)} | {f.name for f in dataclasses.fields(Seen)}
    assert not names & set(HIDDEN), names & set(HIDDEN)
    seen = visible_scene(quirky_scene())
    assert {s.name for s in seen} == {"red block", "small blue block", "green bowl"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        seen[0].position = (0, 0, 0)  # type: ignore[misc]


def test_the_user_cannot_reach_a_hidden_parameter():
    scene = quirky_scene()
    u = SimulatedUser(visible_scene(scene), [("red block", "green bowl")], [Wish("green bowl", (0.0, 0.03), 0.01)],
                      PhraseBank.load(), UserConfig())
    for o in _reachable(u):
        assert not isinstance(o, (Scene, Quirk, SceneObject, Observer)), type(o)
        assert type(o).__name__ not in ("SimWorld", "SimPanda", "TeachingSession"), type(o)
    floats = {x for o in _reachable(u) if isinstance(o, (tuple, list)) for x in o if isinstance(x, float)}
    hidden = {float(v) for q in scene.quirks for v in q.params.values() if isinstance(v, float)}
    hidden |= {float(x) for q in scene.quirks for v in q.params.values() if isinstance(v, list) for x in v}
    hidden = {h for h in hidden if h != 0.0}  # -0.0 == 0.0: a zero is no secret
    assert not floats & hidden, floats & hidden


def test_the_observer_reports_what_a_person_sees():
    from sim.world import SimWorld

    scene = quirky_scene()
    bowl = scene.get("green bowl")
    w = SimWorld(scene)
    try:
        ob = Observer(w, scene)
        plan = [{"skill": "pick", "args": {"object": "red block", "offset": [0, 0, 0]}},
                {"skill": "place", "args": {"target": "green bowl", "offset": [0.0, 0.04, 0.0]}}]
        o = ob.look("moving", 1, plan)
        assert o.heading_to == "green bowl" and o.object == "red block" and o.picked_at == 0
        assert o.heading[1] == pytest.approx(bowl.position[1] + 0.04, abs=1e-3)
        assert o.relation("red block", "green bowl") not in (IN, ON_RIM)
        assert not any(hasattr(o, k) for k in HIDDEN)
    finally:
        w.close()
