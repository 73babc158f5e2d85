"""Quirks are physical: default arguments fail, the arguments the quirk's params ask for succeed."""
from __future__ import annotations

import random

import pytest

from sim.quirks import add_quirk, fixing_args, plan_satisfies, quirk_satisfied
from hardware.scene import Quirk, Scene, SceneError, SceneObject
from sim.world import SimWorld
from skills.library import run_plan

BASE = Scene(objects=[
    SceneObject("red block", "block", "red", 0.04, (0.55, -0.1, 0.02), yaw=0.2),
    SceneObject("small blue block", "block", "blue", 0.03, (0.5, 0.03, 0.015), yaw=-0.3),
    SceneObject("green bowl", "bowl", "green", 0.16, (0.45, 0.25, 0.03)),
], seed=1)


@pytest.fixture(scope="module")
def world():
    w = SimWorld(BASE)
    yield w
    w.close()


def _plan(obj, pick=None, place=None):
    return [{"skill": "pick", "args": {"object": obj, **(pick or {})}}, {"skill": "place", "args": {"target": "green bowl", **(place or {})}}]


@pytest.mark.parametrize("kind,obj", [("slippery", "red block"), ("heavy", "red block"), ("small_grasp", "small blue block"),
                                      ("tall_neighbor", "red block"), ("offcenter_drop", "green bowl")])
def test_default_fails_and_the_fix_succeeds(world, kind, obj):
    scene = add_quirk(BASE, kind, obj, random.Random(0))
    q = scene.quirks[-1]
    block = obj if kind != "offcenter_drop" else "red block"
    default = _plan(block)
    assert not plan_satisfies(q, default)
    world.load(scene)
    outs = run_plan(default, world.robot, world)
    assert not outs[-1].success, f"{kind}: default args should fail: {[o.message for o in outs]}"
    skill, fix = fixing_args(q)
    fixed = _plan(block, pick=fix if skill == "pick" else None, place=fix if skill == "place" else None)
    assert plan_satisfies(q, fixed)
    world.load(scene)
    outs = run_plan(fixed, world.robot, world)
    assert [o.success for o in outs] == [True, True], f"{kind}: {fix} should work: {[o.message for o in outs]}"


def test_force_decides_whether_a_slippery_block_holds(world):
    scene = add_quirk(BASE, "slippery", "red block")
    world.load(scene)
    outs = run_plan(_plan("red block", pick={"force": 20}), world.robot, world)
    assert outs[-1].failure in ("slipped", "dropped"), [o.message for o in outs]  # lost at the lift or on the way
    world.load(scene)
    outs = run_plan(_plan("red block", pick={"force": 60}), world.robot, world)
    assert outs[-1].success


def test_quirk_failures_have_the_expected_codes(world):
    scene = add_quirk(BASE, "tall_neighbor", "red block", random.Random(1))
    world.load(scene)
    outs = run_plan(_plan("red block"), world.robot, world)
    assert outs[0].failure == "knocked_over" and "tall" in outs[0].message
    scene = add_quirk(BASE, "offcenter_drop", "green bowl", random.Random(2))
    world.load(scene)
    outs = run_plan(_plan("red block"), world.robot, world)
    assert outs[-1].failure == "missed_target"


def test_add_quirk_checks_its_inputs_and_round_trips(tmp_path):
    with pytest.raises(SceneError, match="needs a block"):
        add_quirk(BASE, "slippery", "green bowl")
    with pytest.raises(SceneError, match="needs a bowl or tray"):
        add_quirk(BASE, "offcenter_drop", "red block")
    with pytest.raises(SceneError, match="unknown quirk"):
        add_quirk(BASE, "sticky", "red block")
    s = add_quirk(add_quirk(BASE, "heavy", "red block"), "placement_pref", "green bowl", random.Random(3))
    assert BASE.quirks == [] and len(s.quirks) == 2 and s.get("red block").mass > 1.0
    s.save(tmp_path / "q.json")
    assert Scene.load(tmp_path / "q.json").to_dict() == s.to_dict()


def test_quirk_satisfied_reads_the_params():
    q = Quirk("slippery", "red block", {"min_force": 32.0})
    assert not quirk_satisfied(q, "pick", {"object": "red block"})
    assert quirk_satisfied(q, "pick", {"object": "red block", "force": 40})
    assert quirk_satisfied(q, "pick", {"object": "blue block"})
    p = Quirk("placement_pref", "green bowl", {"offset": [0.0, 0.03], "tol": 0.01})
    assert not quirk_satisfied(p, "place", {"target": "green bowl"})
    assert quirk_satisfied(p, "place", {"target": "green bowl", "offset": [0.0, 0.025, 0.0]})
    s = Quirk("small_grasp", "small blue block", {"max_dz": -0.008})
    assert quirk_satisfied(s, "pick", {"object": "small blue block", "offset": [0, 0, -0.012]})
    t = Quirk("tall_neighbor", "red block", {"min_height": 0.22})
    assert not quirk_satisfied(t, "pick", {"object": "red block", "height": 0.15})
