"""The safety layer: property tests (hypothesis) that no command sequence leaves the workspace, enters a
keep-out zone or exceeds a speed / acceleration / yaw-rate limit; refusals send nothing; the watchdog stops a
stalled loop; the simulated Panda still picks and places behind the layer."""
from __future__ import annotations

import math
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hardware.base import Robot, RobotConfig, RobotState, ServoCommand
from hardware.safe_robot import SafeRobot
from hardware.safety import (KeepOut, Motion, MotionLimiter, SafetyError, SafetyLimits, braking_speed,
                             stopping_distance)

TOL = 1e-7


class FakeArm(Robot):
    """An ideal arm: the TCP is wherever it was last sent. Records every call."""

    def __init__(self, start=(0.4, 0.0, 0.3), hz=60.0) -> None:
        self.config = RobotConfig(control_hz=hz, workspace_min=(-5, -5, -5), workspace_max=(5, 5, 5))
        self.pos = tuple(start)
        self.yaw = 0.0
        self.sent: list[tuple[tuple[float, float, float], float]] = []
        self.calls: list[str] = []
        self.force: float | None = None
        self.joints: tuple[float, ...] = ()

    def state(self) -> RobotState:
        return RobotState(self.pos, self.yaw, 0.08, joints=self.joints, tcp_force=self.force)

    def servo(self, position, yaw) -> ServoCommand:
        self.calls.append("servo")
        self.pos, self.yaw = tuple(position), yaw
        self.sent.append((self.pos, yaw))
        return ServoCommand(self.pos, yaw)

    def set_gripper(self, width, force) -> None:
        self.calls.append(f"gripper {width:.3f} {force:.1f}")

    def tick(self, n=1) -> None:
        self.calls.append("tick")

    def home(self) -> None:
        self.calls.append("home")

    def stop(self) -> None:
        self.calls.append("stop")


ZONE = KeepOut("camera mast", (0.45, -0.1, 0.0), (0.55, 0.1, 0.4))


def limits(**kw) -> SafetyLimits:
    base = dict(workspace_min=(0.2, -0.4, 0.0), workspace_max=(0.8, 0.4, 0.5), table_z=0.0, table_clearance=0.01,
                keep_out=(ZONE,), max_speed=0.5, max_acceleration=4.0, max_yaw_rate=2.0, watchdog_s=0)
    base.update(kw)
    return SafetyLimits(**base)


def inside(p, lim: SafetyLimits) -> bool:
    return all(lo - TOL <= v <= hi + TOL for v, lo, hi in zip(p, lim.box_min, lim.workspace_max))


def check_trace(sent, lim: SafetyLimits, dt: float, start) -> None:
    """Every sent set-point inside the box and out of every zone; speed, acceleration and yaw rate within limits."""
    prev, prev_v, prev_yaw = start, (0.0, 0.0, 0.0), 0.0
    for pos, yaw in sent:
        assert inside(pos, lim), f"left the workspace: {pos}"
        assert not any(z.contains([v for v in pos]) and all(zmin + 1e-6 < v < zmax - 1e-6 for v, zmin, zmax in zip(pos, z.min, z.max))
                       for z in lim.keep_out), f"entered a keep-out zone: {pos}"
        v = [(a - b) / dt for a, b in zip(pos, prev)]
        assert math.hypot(*v) <= lim.max_speed + 1e-6, f"speed {math.hypot(*v)}"
        assert math.hypot(*(a - b for a, b in zip(v, prev_v))) <= lim.max_acceleration * dt + 1e-6, "acceleration"
        assert abs(math.remainder(yaw - prev_yaw, math.pi)) <= lim.max_yaw_rate * dt + 1e-9, "yaw rate"
        prev, prev_v, prev_yaw = pos, v, yaw


# --- braking arithmetic ------------------------------------------------------------------------------------------
@given(st.floats(0.0, 2.0), st.floats(0.5, 20.0), st.sampled_from([1 / 30, 1 / 60, 1 / 125, 1 / 500]))
def test_braking_speed_inverts_stopping_distance(v, a, dt):
    d = stopping_distance(v, a, dt)
    assert braking_speed(d, a, dt) == pytest.approx(v, abs=1e-9)
    assert stopping_distance(braking_speed(d, a, dt), a, dt) <= d + 1e-12


# --- the limiter, property-tested ----------------------------------------------------------------------------------
point = st.tuples(st.floats(-0.5, 1.5), st.floats(-1.0, 1.0), st.floats(-0.3, 1.0))
zone_st = st.builds(lambda c, h: KeepOut("z", tuple(a - b for a, b in zip(c, h)), tuple(a + b for a, b in zip(c, h))),
                    st.tuples(st.floats(0.3, 0.7), st.floats(-0.3, 0.3), st.floats(0.0, 0.4)),
                    st.tuples(st.floats(0.01, 0.1), st.floats(0.01, 0.1), st.floats(0.01, 0.1)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(targets=st.lists(st.tuples(point, st.floats(-4, 4), st.integers(1, 40)), min_size=1, max_size=12),
       zones=st.lists(zone_st, max_size=3), vmax=st.floats(0.05, 1.5), amax=st.floats(0.5, 20.0),
       hz=st.sampled_from([30.0, 60.0, 125.0]))
def test_no_command_sequence_leaves_the_workspace_or_exceeds_a_limit(targets, zones, vmax, amax, hz):
    """Any sequence of targets (inside, outside, through zones), each held for 1 to 40 ticks and then corrected."""
    lim = limits(keep_out=tuple(zones), max_speed=vmax, max_acceleration=amax)
    start = (0.25, 0.35, 0.45)
    if any(z.contains(start) for z in zones):
        return
    arm = FakeArm(start=start, hz=hz)
    robot = SafeRobot(arm, lim)
    for target, yaw, ticks in targets:
        for _ in range(ticks):
            n = len(arm.sent)
            try:
                robot.servo(target, yaw)
            except SafetyError as e:
                assert "keep-out zone" in str(e) and len(arm.sent) == n  # refused: nothing was sent
                break
            robot.tick()
    check_trace(arm.sent, lim, 1.0 / hz, start)


@settings(max_examples=60, deadline=None)
@given(target=point)
def test_reaches_any_reachable_target_exactly(target):
    lim = limits(keep_out=())
    m = Motion((0.5, 0.0, 0.3))
    lm = MotionLimiter(lim, 1 / 60)
    want = tuple(min(max(v, lo), hi) for v, lo, hi in zip(target, lim.box_min, lim.workspace_max))
    for _ in range(2000):
        s = lm.step(m, target, 0.0)
        m = Motion(s.position, s.velocity, s.yaw)
        if m.position == pytest.approx(want, abs=1e-9) and max(map(abs, m.velocity)) < 1e-6:
            break
    assert m.position == pytest.approx(want, abs=1e-6)


# --- refusals and clipping --------------------------------------------------------------------------------------------
def test_non_finite_refused_and_nothing_sent():
    arm = FakeArm()
    robot = SafeRobot(arm, limits())
    for bad in [((0.4, float("nan"), 0.3), 0.0), ((0.4, 0.0, 0.3), float("inf")), ((0.4, 0.0), 0.0)]:
        with pytest.raises(SafetyError, match="finite"):
            robot.servo(*bad)
    with pytest.raises(SafetyError, match="finite"):
        robot.set_gripper(float("nan"), 10.0)
    assert arm.calls == [] and robot.refused == 4


def test_keep_out_target_refused_naming_the_zone():
    arm = FakeArm()
    robot = SafeRobot(arm, limits())
    with pytest.raises(SafetyError, match="keep-out zone 'camera mast'; the arm did not move"):
        robot.servo((0.5, 0.0, 0.2), 0.0)
    assert arm.sent == []


def test_path_through_a_zone_stops_in_front_of_it():
    arm = FakeArm(start=(0.3, 0.0, 0.2))
    robot = SafeRobot(arm, limits())
    for _ in range(200):
        cmd = robot.servo((0.7, 0.0, 0.2), 0.0)
        robot.tick()
    assert "keep-out zone 'camera mast'" in cmd.limits
    assert arm.pos[0] < ZONE.min[0] and arm.pos[0] > 0.4  # stopped in front of the mast


def test_table_plane_and_workspace_clipping_named_and_warned(caplog):
    arm = FakeArm(start=(0.4, 0.0, 0.05))
    robot = SafeRobot(arm, limits(max_speed=5.0, max_acceleration=1000.0, keep_out=()))
    with caplog.at_level("WARNING", logger="hardware.safe_robot"):
        cmd = robot.servo((0.4, 0.0, -0.2), 0.0)
    assert cmd.clipped and "table plane" in cmd.limits
    assert "table plane" in caplog.text
    for _ in range(100):
        cmd = robot.servo((0.95, 0.0, -0.2), 0.0)
    assert arm.pos == pytest.approx((0.8, 0.0, 0.01)) and "workspace x" in cmd.limits


def test_grip_force_clipped():
    arm = FakeArm()
    robot = SafeRobot(arm, limits(max_grip_force=30.0))
    robot.set_gripper(0.0, 80.0)
    assert arm.calls == ["gripper 0.000 30.0"]


def test_force_limit_stops_and_latches():
    arm = FakeArm()
    robot = SafeRobot(arm, limits(max_force=25.0))
    robot.servo((0.4, 0.0, 0.29), 0.0)
    arm.force = 40.0
    with pytest.raises(SafetyError, match="force limit: 40.0 N at the TCP exceeds 25.0 N"):
        robot.tick()
    assert arm.calls[-1] == "stop"
    n = len(arm.calls)
    with pytest.raises(SafetyError, match="clear_fault"):
        robot.servo((0.4, 0.0, 0.28), 0.0)
    assert len(arm.calls) == n
    arm.force = 0.0
    robot.clear_fault()
    robot.servo((0.4, 0.0, 0.28), 0.0)


def test_joint_margin_stops():
    arm = FakeArm()
    arm.joints = (0.0, 1.74)
    robot = SafeRobot(arm, limits(joint_lower=(-2.9, -1.76), joint_upper=(2.9, 1.76), joint_margin=0.05))
    with pytest.raises(SafetyError, match="joint 2 at 1.740 rad is within 0.050 rad"):
        robot.tick()


def test_stop_is_immediate_and_the_arm_rests_where_it_is():
    arm = FakeArm()
    robot = SafeRobot(arm, limits())
    for _ in range(10):
        robot.servo((0.7, 0.3, 0.3), 0.0)
    robot.stop()
    assert arm.calls[-1] == "stop"
    here = arm.pos
    cmd = robot.servo(here, 0.0)  # from rest: no jump
    assert cmd.tcp_position == pytest.approx(here)


# --- watchdog ------------------------------------------------------------------------------------------------------
def test_watchdog_stops_a_stalled_loop_fake_clock():
    arm = FakeArm()
    robot = SafeRobot(arm, limits(watchdog_s=0.2))
    now = [0.0]
    robot.watchdog.clock = lambda: now[0]
    robot.watchdog.kick(False)
    robot.servo((0.7, 0.3, 0.3), 0.0)  # moving
    now[0] = 0.1
    assert not robot.watchdog.check()
    now[0] = 0.35  # the loop stalled
    assert robot.watchdog.check() and arm.calls[-1] == "stop"
    assert not robot.watchdog.check()  # once


def test_watchdog_not_armed_at_rest():
    arm = FakeArm()
    robot = SafeRobot(arm, limits(watchdog_s=0.2))
    robot.servo(arm.pos, 0.0)  # at rest
    assert not robot.watchdog.check(time.monotonic() + 10)


def test_watchdog_thread_stops_a_stalled_loop_in_real_time():
    arm = FakeArm()
    with SafeRobot(arm, limits(watchdog_s=0.05)) as robot:
        robot.connect()
        robot.servo((0.7, 0.3, 0.3), 0.0)
        deadline = time.monotonic() + 3.0
        while "stop" not in arm.calls and time.monotonic() < deadline:
            time.sleep(0.01)
        assert "stop" in arm.calls and robot.watchdog.fired == 1


def test_not_connected_is_refused():
    from hardware.base import RobotError
    from hardware.xarm import XArmRobot

    robot = SafeRobot(XArmRobot(api=object()), limits())
    with pytest.raises(RobotError, match="XArmRobot is not connected: call connect"):
        robot.servo((0.4, 0.0, 0.3), 0.0)


# --- the simulated arm behind the layer ---------------------------------------------------------------------------------
def test_sim_pick_and_place_behind_the_safety_layer():
    from hardware.scene import Scene, SceneObject
    from sim.world import SimWorld
    from skills.library import run_plan

    scene = Scene(objects=[SceneObject("red block", "block", "red", 0.04, (0.52, -0.12, 0.02), yaw=0.2),
                           SceneObject("green bowl", "bowl", "green", 0.16, (0.45, 0.2, 0.03))], seed=7)
    world = SimWorld(scene)
    try:
        zone = KeepOut("behind the bowl", (0.6, 0.15, 0.0), (0.7, 0.3, 0.3))
        robot = SafeRobot(world.robot, SafetyLimits(keep_out=(zone,), watchdog_s=0))
        out = run_plan([{"skill": "pick", "args": {"object": "red block"}},
                        {"skill": "place", "args": {"target": "green bowl"}}], robot, world)
        assert out[-1].success if isinstance(out, list) else out.success
        assert world.is_in("red block", "green bowl")
    finally:
        world.close()
