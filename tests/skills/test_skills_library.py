"""The skill executor's canonical arguments do physically what the contract says (one world per module)."""
from __future__ import annotations

import math

import pytest

from hardware.scene import Scene, SceneObject
from sim.world import SimWorld
from skills.base import SkillControl
from skills.library import run_plan, run_skill
from skills.schema import SkillArgError

SCENE = Scene(objects=[
    SceneObject("red block", "block", "red", 0.04, (0.52, -0.12, 0.02), yaw=0.2),
    SceneObject("blue block", "block", "blue", 0.04, (0.6, 0.05, 0.02), yaw=-0.1),
    SceneObject("green bowl", "bowl", "green", 0.16, (0.45, 0.2, 0.03)),
], seed=7)


@pytest.fixture(scope="module")
def world():
    w = SimWorld(SCENE)
    yield w
    w.close()


def _pick_place(world, pick_args=None, place_args=None, target="green bowl"):
    world.load(SCENE)
    return run_plan([{"skill": "pick", "args": {"object": "red block", **(pick_args or {})}},
                     {"skill": "place", "args": {"target": target, **(place_args or {})}}], world.robot, world)


def _trace(world, call):
    """Run one call and record (tick, tcp position, tcp yaw, gripper width) every tick."""
    rec = []
    ctl = SkillControl(on_tick=lambda t, s, c: rec.append((t, s.tcp_position, s.tcp_yaw, s.gripper_width)))
    out = run_skill(call, world.robot, world, ctl)
    return out, rec


def test_default_pick_and_place_lands_in_the_bowl(world):
    outs = _pick_place(world)
    assert [o.success for o in outs] == [True, True], [o.message for o in outs]
    assert world.is_in("red block", "green bowl")
    assert math.hypot(*outs[1].error_xy) < 0.01
    assert "green bowl" in outs[1].message and outs[1].duration_s > 0 and outs[1].wall_s > 0


@pytest.mark.parametrize("offset", [(0.02, 0.0), (0.0, 0.03), (-0.02, -0.02)])
def test_place_offset_moves_the_object_by_the_offset(world, offset):
    outs = _pick_place(world, place_args={"offset": [offset[0], offset[1], 0.0]})
    assert outs[-1].success, outs[-1].message
    ex, ey = outs[-1].error_xy
    assert abs(ex - offset[0]) < 0.01 and abs(ey - offset[1]) < 0.01, outs[-1].error_xy


def test_place_message_says_where_it_landed(world):
    outs = _pick_place(world, place_args={"offset": [0.0, 0.03, 0.0]})
    assert "cm left" in outs[-1].message


def test_pick_offset_z_lowers_the_grasp(world):
    lows = []
    for dz in (0.0, -0.01):
        world.load(SCENE)
        out, rec = _trace(world, {"skill": "pick", "args": {"object": "red block", "offset": [0, 0, dz]}})
        assert out.success, out.message
        lows.append(min(p[2] for _, p, _, _ in rec))
    assert abs((lows[1] - lows[0]) - (-0.01)) < 0.003, lows


def test_half_speed_takes_about_twice_as_long(world):
    d = []
    for sp in (1.0, 0.5):
        world.load(SCENE)
        out = run_skill({"skill": "pick", "args": {"object": "red block", "speed": sp}}, world.robot, world)
        assert out.success
        d.append(out.duration_s)
    assert 1.75 < d[1] / d[0] < 2.25, d


def test_yaw_turns_the_grasp(world):
    yaws = []
    for yaw in (0.0, 0.5):
        world.load(SCENE)
        out, rec = _trace(world, {"skill": "pick", "args": {"object": "red block", "yaw": yaw}})
        low = min(rec, key=lambda r: r[1][2])
        yaws.append(low[2])
    assert abs((yaws[1] - yaws[0]) - 0.5) < 0.05, yaws


def test_height_sets_the_lift_clearance(world):
    zs = []
    for h in (0.1, 0.2):
        world.load(SCENE)
        out = run_skill({"skill": "pick", "args": {"object": "red block", "height": h}}, world.robot, world)
        assert out.success
        zs.append(world.robot.state().tcp_position[2])
    assert abs((zs[1] - zs[0]) - 0.1) < 0.01, zs


def test_place_height_sets_the_max_tcp_height(world):
    tops = []
    for h in (0.1, 0.25):
        world.load(SCENE)
        run_skill({"skill": "pick", "args": {"object": "red block", "height": 0.05}}, world.robot, world)
        out, rec = _trace(world, {"skill": "place", "args": {"target": "green bowl", "height": h}})
        assert out.success, out.message
        tops.append(max(p[2] for _, p, _, _ in rec))
    assert abs((tops[1] - tops[0]) - 0.15) < 0.015, tops


def test_out_of_bounds_is_rejected_before_any_motion(world):
    world.load(SCENE)
    before = world.robot.state()
    for bad in ({"object": "red block", "speed": 5.0}, {"object": "red block", "offset": [0, 0.5, 0]},
                {"object": "red block", "force": -3}, {"object": "red block", "colour": "red"}):
        with pytest.raises(SkillArgError):
            run_skill({"skill": "pick", "args": bad}, world.robot, world)
    after = world.robot.state()
    assert after.time_s == before.time_s
    assert math.dist(after.tcp_position, before.tcp_position) < 1e-9


def test_unknown_object_error_lists_what_is_there(world):
    world.load(SCENE)
    with pytest.raises(SkillArgError, match=r"there is no purple block; I see: red block, blue block, green bowl"):
        run_skill({"skill": "pick", "args": {"object": "purple block"}}, world.robot, world)
    with pytest.raises(SkillArgError, match="only pick up blocks"):
        run_skill({"skill": "pick", "args": {"object": "green bowl"}}, world.robot, world)


def test_bad_step_in_a_plan_moves_nothing(world):
    world.load(SCENE)
    t0 = world.time_s
    with pytest.raises(SkillArgError, match="step 1"):
        run_plan([{"skill": "pick", "args": {"object": "red block"}}, {"skill": "place", "args": {"target": "moon"}}], world.robot, world)
    assert world.time_s == t0


def test_stop_returns_within_the_tick_and_the_arm_stays(world):
    world.load(SCENE)
    k = 40

    def hook(tick, state, ctl):
        if tick == k:
            ctl.request_stop()

    ctl = SkillControl(on_tick=hook)
    out = run_skill({"skill": "pick", "args": {"object": "red block"}}, world.robot, world, ctl)
    assert out.stopped and out.failure == "stopped" and not out.success
    assert out.ticks == k and ctl.stop_tick == k
    p0 = world.robot.state().tcp_position
    world.robot.tick(30)
    p1 = world.robot.state().tcp_position
    assert math.dist(p0, p1) < 0.01, (p0, p1)


def test_replace_args_during_motion_replans_the_rest(world):
    world.load(SCENE)
    run_skill({"skill": "pick", "args": {"object": "red block"}}, world.robot, world)

    def hook(tick, state, ctl):
        if tick == 20:
            ctl.replace_args({"offset": [0.0, 0.03, 0.0]})

    out = run_skill({"skill": "place", "args": {"target": "green bowl"}}, world.robot, world, SkillControl(on_tick=hook))
    assert out.success, out.message
    assert abs(out.error_xy[1] - 0.03) < 0.01 and out.args["offset"] == [0.0, 0.03, 0.0]


def test_replace_args_are_validated(world):
    world.load(SCENE)

    def hook(tick, state, ctl):
        if tick == 5:
            ctl.replace_args({"speed": 9.0})

    with pytest.raises(SkillArgError):
        run_skill({"skill": "pick", "args": {"object": "red block"}}, world.robot, world, SkillControl(on_tick=hook))


def test_place_with_nothing_held_fails_and_the_plan_stops(world):
    world.load(SCENE)
    outs = run_plan([{"skill": "place", "args": {"target": "green bowl"}}, {"skill": "pick", "args": {"object": "red block"}}],
                    world.robot, world)
    assert len(outs) == 1 and outs[0].failure == "nothing_held"


def test_stack_on_a_block_and_place_at_a_named_spot(world):
    outs = _pick_place(world, target="blue block")
    assert outs[-1].success, outs[-1].message
    assert world.is_on("red block", "blue block")
    outs = _pick_place(world, target="right side")
    assert outs[-1].success, outs[-1].message
    (x, y, _), _ = world.pose("red block")
    assert math.hypot(x - 0.5, y + 0.22) < 0.015


def test_push_moves_the_block_along_the_direction(world):
    world.load(SCENE)
    (x0, y0, _), _ = world.pose("red block")
    out = run_skill({"skill": "push", "args": {"object": "red block", "direction": [0, -1, 0], "distance": 0.08}}, world.robot, world)
    (x1, y1, _), _ = world.pose("red block")
    assert out.success, out.message
    assert -0.12 < y1 - y0 < -0.05 and abs(x1 - x0) < 0.03


def test_gripper_move_to_and_home(world):
    world.load(SCENE)
    assert run_skill({"skill": "close_gripper", "args": {"force": 10}}, world.robot, world).success
    assert world.robot.gripper_width() < 0.005
    assert run_skill({"skill": "open_gripper", "args": {}}, world.robot, world).success
    assert world.robot.gripper_width() > 0.075
    out = run_skill({"skill": "move_to", "args": {"target": "green bowl", "height": 0.1}}, world.robot, world)
    assert out.success
    (x, y, z) = world.robot.state().tcp_position
    assert math.hypot(x - 0.45, y - 0.2) < 0.01 and abs(z - (0.06 + 0.1 + 0.011)) < 0.01
    assert run_skill({"skill": "home", "args": {}}, world.robot, world).success
    assert math.dist(world.robot.state().tcp_position, (0.35, 0.0, 0.35)) < 0.01
