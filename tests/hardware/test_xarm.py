"""XArmRobot against a fake XArmAPI injected at the SDK boundary (no SDK, no arm needed).

The fake (``hardware/fakes/xarm.py``) follows xarm-python-sdk 1.18.4 (``xarm.wrapper.XArmAPI``); it tracks the
commanded servo-cartesian pose ideally (mm / deg) and its gripper stops on an object of a set width.
"""
from __future__ import annotations

import math
import sys
import types

import pytest

from hardware.base import RobotError
from agent.robots import make_robot
from hardware.fixed_world import StaticWorld
from hardware.safe_robot import SafeRobot
from hardware.safety import SafetyError
from hardware.xarm import (XArmConfig, XArmRobot, force_to_gripper_speed, from_arm_pose, to_arm_pose, units_to_width,
                           width_to_units)
from hardware.scene import Scene, SceneError, SceneObject
from skills.base import SkillControl
from skills.library import run_skill
from hardware.fakes.xarm import FakeXArmAPI
from manual_clock import ManualClock


def make(api=None, **cfg) -> tuple[XArmRobot, FakeXArmAPI, ManualClock]:
    api = api or FakeXArmAPI()
    clock = ManualClock(100.0)
    robot = XArmRobot(XArmConfig(**cfg), api=api, clock=clock, sleep=clock.sleep)
    robot.connect()
    return robot, api, clock


def servo_poses(api: FakeXArmAPI) -> list[list[float]]:
    return [c[1][0] for c in api.calls if c[0] == "set_servo_cartesian"]


# --- import / construction ----------------------------------------------------------------------------------------
def test_missing_sdk_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "xarm", None)  # import xarm.wrapper -> ImportError
    monkeypatch.setitem(sys.modules, "xarm.wrapper", None)
    with pytest.raises(RobotError, match=r"pip install 'robocorrect\[hardware\]'"):
        XArmRobot(XArmConfig()).connect()


def test_sdk_imported_lazily_from_xarm_wrapper(monkeypatch):
    made = {}

    def factory(port, is_radian=False, **kw):
        made.update(port=port, is_radian=is_radian)
        return FakeXArmAPI()

    pkg = types.ModuleType("xarm")
    wrapper = types.ModuleType("xarm.wrapper")
    wrapper.XArmAPI = factory
    monkeypatch.setitem(sys.modules, "xarm", pkg)
    monkeypatch.setitem(sys.modules, "xarm.wrapper", wrapper)
    robot = make_robot("xarm", ip="10.0.0.7")
    assert made == {} and not robot.is_connected  # the constructor does no I/O
    robot.connect()
    assert made == {"port": "10.0.0.7", "is_radian": False} and robot.is_connected
    assert isinstance(robot, SafeRobot) and isinstance(robot.robot, XArmRobot)  # behind the safety layer by default
    assert robot.limits.watchdog_s > 0  # a real-time arm: the watchdog guards it
    robot.disconnect()
    assert isinstance(make_robot("xarm", ip="10.0.0.7", safety=False), XArmRobot)


def test_connect_sequence_ends_in_servo_mode():
    _, api, _ = make(tcp_offset=(0.0, 0.0, 0.161, 0.0, 0.0, 0.0))
    names = api.names()
    assert names[:3] == ["clean_error", "clean_warn", "motion_enable"]
    off = [c for c in api.calls if c[0] == "set_tcp_offset"][0]
    assert off[1][0] == pytest.approx([0.0, 0.0, 161.0, 0.0, 0.0, 0.0]) and off[2]["is_radian"] is False
    assert ("set_gripper_mode", (0,), {}) in api.calls and ("set_gripper_enable", (True,), {}) in api.calls
    assert api.calls[-2:] == [("set_mode", (1,), {}), ("set_state", (0,), {})]


def test_servo_refused_until_home_when_not_pointing_down():
    robot, api, _ = make(api=FakeXArmAPI(pose=(300.0, 0.0, 300.0, 90.0, 0.0, 0.0)))
    with pytest.raises(RobotError, match="not pointing down.*call home"):
        robot.servo((0.3, 0.0, 0.3), 0.0)
    assert "set_servo_cartesian" not in api.names()
    robot.home()
    robot.servo((0.35, 0.0, 0.35), 0.0)
    assert api.names()[-1] == "set_servo_cartesian"


def test_factory_unknown_kind_and_bad_field():
    with pytest.raises(ValueError, match="known kinds: sim, xarm, ur, franka"):
        make_robot("ur5")
    with pytest.raises(ValueError, match="bad xarm setting"):
        make_robot("xarm", api=FakeXArmAPI(), colour="red")


def test_factory_sim_returns_the_worlds_robot_behind_the_safety_layer():
    robot = make_robot("sim", control_hz=60.0)
    try:
        from sim.panda import SimPanda
        assert isinstance(robot, SafeRobot) and isinstance(robot.robot, SimPanda) and robot.robot.world.robot is robot.robot
        assert robot.limits.watchdog_s == 0  # the simulation waits for its next command
        with pytest.raises(SafetyError, match="keep-out|finite"):
            robot.servo((float("nan"), 0.0, 0.3), 0.0)
    finally:
        robot.robot.world.close()


# --- unit conversions --------------------------------------------------------------------------------------------
def test_pose_conversion_metres_to_mm_and_yaw_to_degrees():
    cfg = XArmConfig()
    assert to_arm_pose((0.4, -0.1, 0.25), 0.0, cfg) == pytest.approx([400.0, -100.0, 250.0, 180.0, 0.0, 0.0])
    assert to_arm_pose((0.4, 0.0, 0.2), math.radians(30), cfg)[5] == pytest.approx(30.0)
    (x, y, z), yaw = from_arm_pose([400.0, -100.0, 250.0, 180.0, 0.0, 30.0], cfg)
    assert (x, y, z) == pytest.approx((0.4, -0.1, 0.25)) and yaw == pytest.approx(math.radians(30))


def test_yaw_read_back_is_representation_independent_and_wrapped():
    cfg = XArmConfig()
    # roll -180 is the same downward tool as roll 180
    assert from_arm_pose([0, 0, 0, -180.0, 0.0, 20.0], cfg)[1] == pytest.approx(math.radians(20))
    # arm yaw 150 deg = finger line of -30 deg (half-turn symmetric gripper)
    assert from_arm_pose([0, 0, 0, 180.0, 0.0, 150.0], cfg)[1] == pytest.approx(math.radians(-30))
    for deg in (-85.0, -10.0, 0.0, 45.0, 89.0):
        pose = to_arm_pose((0.5, 0.0, 0.1), math.radians(deg), cfg)
        assert from_arm_pose(pose, cfg)[1] == pytest.approx(math.radians(deg))


def test_yaw_offset_and_base_position():
    cfg = XArmConfig(yaw_offset=math.pi / 2, base_position=(0.0, 0.0, -0.02))
    pose = to_arm_pose((0.5, 0.1, 0.0), 0.0, cfg)
    assert pose == pytest.approx([500.0, 100.0, 20.0, 180.0, 0.0, 90.0])
    (x, y, z), yaw = from_arm_pose(pose, cfg)
    assert (x, y, z) == pytest.approx((0.5, 0.1, 0.0)) and yaw == pytest.approx(0.0)


def test_no_half_turn_flip_of_the_wrist():
    cfg = XArmConfig()
    # previous arm yaw 88 deg; our yaw -89 deg is the same finger line as +91 deg: keep the wrist near 88
    assert to_arm_pose((0.5, 0, 0.2), math.radians(-89), cfg, prev_arm_yaw_deg=88.0)[5] == pytest.approx(91.0)


def test_gripper_width_units():
    cfg = XArmConfig()
    assert width_to_units(0.085, cfg) == 850 and width_to_units(0.04, cfg) == 400 and width_to_units(0.0, cfg) == 0
    assert width_to_units(0.2, cfg) == 850 and width_to_units(-0.01, cfg) == 0
    assert units_to_width(400) == pytest.approx(0.04) and units_to_width(-8) == 0.0
    assert force_to_gripper_speed(0.0, cfg) == 1000.0 and force_to_gripper_speed(100.0, cfg) == 5000.0
    assert force_to_gripper_speed(500.0, cfg) == 5000.0


def test_set_gripper_sends_units_and_speed_without_waiting():
    robot, api, _ = make()
    robot.set_gripper(0.03, 50.0)
    name, args, kw = api.calls[-1]
    assert name == "set_gripper_position" and args == (300,) and kw["wait"] is False and kw["speed"] == pytest.approx(3000.0)
    assert robot.state().gripper_width == pytest.approx(0.03)


def test_lite6_gripper_is_open_or_closed():
    robot, api, _ = make(gripper="lite6")
    robot.set_gripper(0.0, 20.0)
    robot.set_gripper(0.08, 20.0)
    assert api.names()[-2:] == ["close_lite6_gripper", "open_lite6_gripper"]
    assert robot.state().gripper_width == pytest.approx(robot.config.gripper_max_width)


# --- clipping --------------------------------------------------------------------------------------------------------
def test_servo_inside_limits_is_sent_unclipped():
    robot, api, _ = make()
    cmd = robot.servo((0.352, 0.001, 0.349), 0.01)
    assert not cmd.clipped
    assert servo_poses(api)[-1] == pytest.approx([352.0, 1.0, 349.0, 180.0, 0.0, math.degrees(0.01)])


def test_servo_clipped_to_workspace_box():
    robot, api, _ = make(workspace_min=(0.2, -0.3, 0.05), workspace_max=(0.6, 0.3, 0.5), max_speed=100.0)
    cmd = robot.servo((0.9, -0.5, -0.1), 0.0)
    assert cmd.clipped and cmd.tcp_position == pytest.approx((0.6, -0.3, 0.05))
    assert servo_poses(api)[-1][:3] == pytest.approx([600.0, -300.0, 50.0])


def test_servo_clipped_to_max_step_per_tick():
    robot, api, _ = make(max_speed=0.25, control_hz=50.0)  # 5 mm per tick
    cmd = robot.servo((0.45, 0.0, 0.35), 0.0)  # 10 cm away
    assert cmd.clipped and cmd.tcp_position == pytest.approx((0.355, 0.0, 0.35))
    assert servo_poses(api)[-1][:3] == pytest.approx([355.0, 0.0, 350.0])
    cmd = robot.servo((0.45, 0.0, 0.35), 0.0)  # the next step goes on from the last set-point
    assert cmd.tcp_position == pytest.approx((0.36, 0.0, 0.35))


def test_servo_yaw_rate_limited():
    robot, api, _ = make(max_yaw_rate=1.0, control_hz=50.0)  # 0.02 rad per tick
    cmd = robot.servo((0.35, 0.0, 0.35), 0.5)
    assert cmd.clipped and cmd.tcp_yaw == pytest.approx(0.02)
    assert servo_poses(api)[-1][5] == pytest.approx(math.degrees(0.02))


def test_servo_rejects_non_finite_without_sending():
    robot, api, _ = make()
    n = len(api.calls)
    with pytest.raises(RobotError, match="finite"):
        robot.servo((0.4, float("nan"), 0.2), 0.0)
    assert len(api.calls) == n


# --- errors ----------------------------------------------------------------------------------------------------------
def test_error_code_raises_with_meaning_and_nothing_is_sent_after():
    robot, api, _ = make()
    api.codes["set_servo_cartesian"] = 1
    with pytest.raises(RobotError) as e:
        robot.servo((0.351, 0.0, 0.35), 0.0)
    msg = str(e.value)
    assert "set_servo_cartesian" in msg and "code 1" in msg and "errors that have not been cleared" in msg
    assert "controller error 31: collision caused abnormal current" in msg
    n = len(api.calls)
    api.codes.clear()
    for action in (lambda: robot.servo((0.35, 0.0, 0.35), 0.0), lambda: robot.set_gripper(0.0, 20.0), robot.tick, robot.home):
        with pytest.raises(RobotError, match="faulted"):
            action()
    assert len(api.calls) == n  # nothing reached the arm
    robot.recover()
    assert "clean_error" in api.names()[n:]
    robot.servo((0.351, 0.0, 0.35), 0.0)
    assert api.names()[-1] == "set_servo_cartesian"


def test_negative_code_meaning():
    robot, api, _ = make()
    api.codes["set_gripper_position"] = -1
    with pytest.raises(RobotError, match="code -1: xArm is disconnected or not connected"):
        robot.set_gripper(0.02, 10.0)


def test_connect_failure_raises():
    api = FakeXArmAPI()
    api.codes["motion_enable"] = 9
    with pytest.raises(RobotError, match="motion_enable failed with code 9: state is not ready to move"):
        make(api=api)


def test_controller_error_during_tick_faults():
    robot, api, _ = make()
    api.error_code = 22
    with pytest.raises(RobotError, match="controller error 22: self-collision error"):
        robot.tick()
    with pytest.raises(RobotError, match="faulted"):
        robot.servo((0.35, 0.0, 0.35), 0.0)


# --- pacing ----------------------------------------------------------------------------------------------------------
def test_tick_paces_at_control_hz_with_fake_clock():
    robot, _, clock = make(control_hz=50.0)
    t0 = clock.t
    robot.tick(10)
    assert clock.t - t0 == pytest.approx(10 * 0.02)


def test_tick_paces_in_real_time():
    import time
    robot = XArmRobot(XArmConfig(control_hz=100.0), api=FakeXArmAPI())
    robot.connect()
    t0 = time.monotonic()
    robot.tick(10)
    assert 0.09 <= time.monotonic() - t0 < 0.5


def test_late_loop_does_not_burst():
    robot, _, clock = make(control_hz=50.0)
    robot.tick()
    clock.t += 1.0  # the caller stalled for a second
    robot.tick()
    robot.tick()
    assert clock.sleeps[-1] == pytest.approx(0.02)


def test_home_moves_slowly_in_position_mode_then_servo():
    robot, api, _ = make(home_speed=0.05, home_acc=0.4)
    robot.home()
    sp = [c for c in api.calls if c[0] == "set_position"][0]
    assert sp[2]["x"] == pytest.approx(350.0) and sp[2]["z"] == pytest.approx(350.0) and sp[2]["roll"] == 180.0
    assert sp[2]["speed"] == pytest.approx(50.0) and sp[2]["mvacc"] == pytest.approx(400.0) and sp[2]["wait"] is True
    i = api.calls.index(sp)
    assert ("set_mode", (0,), {}) in api.calls[i - 2:i] and ("set_mode", (1,), {}) in api.calls[i:]


def test_close_disconnects_once():
    robot, api, _ = make()
    robot.close()
    robot.close()
    assert api.names().count("disconnect") == 1
    with pytest.raises(RobotError, match="not connected: call connect"):
        robot.servo((0.35, 0, 0.35), 0.0)


# --- skills through the fake arm ------------------------------------------------------------------------------------
def scene() -> Scene:
    return Scene(objects=[
        SceneObject("red block", "block", "red", 0.04, (0.45, 0.05, 0.02)),
        SceneObject("green bowl", "bowl", "green", 0.16, (0.5, -0.15, 0.03)),
    ])


def test_static_world_from_scene_and_unknown_name(tmp_path):
    p = tmp_path / "table.json"
    scene().save(p)
    w = StaticWorld(p)
    assert w.names() == ["red block", "green bowl"] and w.kind("green bowl") == "bowl"
    assert w.pose("red block") == ((0.45, 0.05, 0.02), 0.0) and w.dims("red block") == (0.04, 0.04, 0.04)
    assert w.held() is None
    with pytest.raises(SceneError, match="there is no purple block; I see: red block, green bowl"):
        w.pose("purple block")


def test_pick_and_place_drive_the_fake_arm():
    api = FakeXArmAPI(grip_stop_units=400)  # the fingers stop on the 4 cm block
    robot, api, clock = make(api=api)
    world = StaticWorld(scene(), robot)
    out = run_skill({"skill": "pick", "args": {"object": "red block"}}, robot, world)
    assert out.success, out.message
    assert world.held() == "red block"
    poses = servo_poses(api)
    assert len(poses) > 50
    assert min(p[2] for p in poses) < 40.0  # went down to the block (mm)
    assert all(p[3] == 180.0 and p[4] == 0.0 for p in poses)  # gripper always pointing down
    steps = [math.dist(a[:3], b[:3]) for a, b in zip(poses, poses[1:])]
    assert max(steps) <= 1000.0 * robot.config.max_speed / robot.config.control_hz + 1e-6
    grips = [c for c in api.calls if c[0] == "set_gripper_position"]
    assert grips[0][1][0] == 850 and grips[-1][1][0] == 0  # opened, then closed
    assert out.duration_s == pytest.approx(out.ticks / robot.config.control_hz)
    assert clock.t - 100.0 == pytest.approx(out.ticks / robot.config.control_hz, rel=0.05)

    api.grip_stop_units = None
    out = run_skill({"skill": "place", "args": {"target": "green bowl"}}, robot, world)
    assert out.success, out.message
    assert world.held() is None and world.is_in("red block", "green bowl")
    (x, y, _), _ = world.pose("red block")
    assert math.hypot(x - 0.5, y + 0.15) < 0.01


def test_missed_grasp_when_fingers_close_fully():
    robot, api, _ = make(api=FakeXArmAPI(grip_stop_units=None))
    world = StaticWorld(scene(), robot)
    out = run_skill({"skill": "pick", "args": {"object": "red block"}}, robot, world)
    assert not out.success and out.failure == "missed_grasp"


def test_stop_between_ticks_stops_sending():
    robot, api, _ = make(api=FakeXArmAPI(grip_stop_units=400))
    world = StaticWorld(scene(), robot)
    sent_at_stop = {}

    def hook(tick, state, control):
        if tick == 20:
            control.request_stop()
            sent_at_stop["n"] = len(servo_poses(api))

    out = run_skill({"skill": "pick", "args": {"object": "red block"}}, robot, world, SkillControl(hook))
    assert out.stopped and out.failure == "stopped" and out.ticks == 20
    poses = servo_poses(api)
    assert len(poses) == sent_at_stop["n"] + 1  # only the hold-here set-point after the stop
    held_at = poses[-1]
    assert held_at[:3] == pytest.approx(poses[-2][:3], abs=1e-6)  # the hold is where the arm is
    robot.tick(5)
    assert len(servo_poses(api)) == len(poses)  # ticking on sends nothing


def test_calls_match_the_real_sdk_signatures_when_installed():
    """Only where xarm-python-sdk is importable: every call the driver made binds to XArmAPI's real signature."""
    import inspect
    XArmAPI = pytest.importorskip("xarm.wrapper").XArmAPI
    robot, api, _ = make(api=FakeXArmAPI(grip_stop_units=400), tcp_offset=(0.0, 0.0, 0.161, 0.0, 0.0, 0.0))
    world = StaticWorld(scene(), robot)
    run_skill({"skill": "pick", "args": {"object": "red block"}}, robot, world)
    api.codes["set_servo_cartesian"] = 1
    with pytest.raises(RobotError):
        robot.servo((0.35, 0.0, 0.35), 0.0)
    robot.recover()
    robot.home()
    robot.close()
    for name, args, kw in api.calls + api.reads:
        inspect.signature(getattr(XArmAPI, name)).bind(None, *args, **kw)


def test_link_lost_mid_motion_stops_the_arm():
    robot, api, _ = make()
    robot.servo((0.351, 0.0, 0.35), 0.0)
    api.codes["set_servo_cartesian"] = -1  # the SDK reports the arm disconnected
    with pytest.raises(RobotError, match="code -1: xArm is disconnected"):
        robot.servo((0.352, 0.0, 0.35), 0.0)
    assert api.names()[-1] == "set_state" and api.calls[-1][1] == (4,)  # told to stop
    assert api.state == 4
