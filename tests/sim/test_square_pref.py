"""``square_pref``: the user's wish that blocks in a container rest squared up. In PyBullet a place's ``yaw`` turns
the block it puts down, the observer sees how a carried block will be turned, and the teaching benchmark's ground
truth holds a task to the wish."""
from __future__ import annotations

import math
import random

import pytest

from hardware.scene import Scene, SceneObject
from sim.observe import Observer
from sim.quirk_kinds import get_kind, kind_names
from sim.quirks import add_quirk
from sim.tasks import QUIRK_KINDS, Task
from sim.user import YawWish
from sim.world import SimWorld
from skills.library import run_plan

BASE = Scene(objects=[
    SceneObject("red block", "block", "red", 0.04, (0.55, -0.1, 0.02), yaw=0.4),
    SceneObject("green bowl", "bowl", "green", 0.16, (0.45, 0.25, 0.03)),
], seed=1)


def test_the_kind_is_a_wish_about_turning_and_off_by_default():
    k = get_kind("square_pref")
    assert "square_pref" in kind_names() and "square_pref" not in QUIRK_KINDS
    assert not k.physical and k.args == (("place", "yaw"),)
    scene = add_quirk(BASE, "square_pref", "green bowl", random.Random(0))
    task = Task("t", 1, "put the red block in the green bowl", [("red block", "green bowl")], scene, ["square_pref"])
    assert task.yaw_wishes() == [("green bowl", 0.0, pytest.approx(0.15))] and task.wishes() == []
    assert YawWish("green bowl", 0.0, 0.15).error(math.pi / 2 - 0.1) == pytest.approx(0.1)


@pytest.fixture(scope="module")
def world():
    w = SimWorld(add_quirk(BASE, "square_pref", "green bowl", random.Random(0)))
    yield w
    w.close()


@pytest.mark.parametrize("place_yaw,square", [(0.0, False), (-0.4, True)])
def test_a_place_yaw_turns_the_block_it_puts_down(world, place_yaw, square):
    from agent.bench.teach import goal_holds

    scene = add_quirk(BASE, "square_pref", "green bowl", random.Random(0))
    world.load(scene)
    plan = [{"skill": "pick", "args": {"object": "red block"}},
            {"skill": "place", "args": {"target": "green bowl", "yaw": place_yaw}}]
    ob = Observer(world, scene)
    outs = run_plan(plan[:1], world.robot, world)
    assert outs[0].success
    look = ob.look("moving", 1, plan)  # the place has not turned yet: how the block hangs plus the announced turn
    assert look.heading_yaw == pytest.approx(0.4 + place_yaw, abs=0.08)
    outs = run_plan(plan[1:], world.robot, world)
    assert outs[0].success and world.is_in("red block", "green bowl")
    rest = world.pose("red block")[1]
    assert abs(math.remainder(rest, math.pi / 2)) < 0.1 if square else abs(math.remainder(rest, math.pi / 2)) > 0.25
    task = Task("t", 1, "put the red block in the green bowl", [("red block", "green bowl")], scene, ["square_pref"])
    assert goal_holds(world, task) is square
