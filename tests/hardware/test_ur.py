"""URRobot against fakes of ur-rtde's RTDEControlInterface / RTDEReceiveInterface / RTDEIOInterface, injected
at the SDK boundary. The fakes' methods follow the installed ur-rtde signatures (checked below), and every
call the adapter makes is bound against the REAL classes' signatures. The fakes live in ``hardware/fakes/ur.py``
(``robocorrect bench control --robot fake-ur`` drives them too)."""
from __future__ import annotations

import math
import sys

import pytest

from hardware.base import RobotError
from hardware.factory import make_robot
from hardware.fixed_world import StaticWorld
from hardware.frames import matrix_from_rotvec, rotvec_down
from hardware.scene import Scene, SceneObject
from hardware.ur import URConfig, URRobot
from skills.library import run_skill

from hardware.fakes.signatures import assert_binds, assert_fake_matches
from hardware.fakes.ur import REAL, Arm, FakeRTDEControl, FakeRTDEIO, FakeRTDEReceive
from manual_clock import ManualClock


def make(**cfg):
    arm = Arm()
    clock = ManualClock()
    robot = URRobot(URConfig(**cfg), control=FakeRTDEControl(arm), receive=FakeRTDEReceive(arm), io=FakeRTDEIO(arm),
                    clock=clock, sleep=clock.sleep)
    return robot, arm


def scene() -> Scene:
    return Scene(objects=[SceneObject("red block", "block", "red", 0.04, (0.45, 0.05, 0.02))])


def test_fakes_follow_the_real_sdk():
    rtde_control = pytest.importorskip("rtde_control")
    rtde_receive = pytest.importorskip("rtde_receive")
    rtde_io = pytest.importorskip("rtde_io")
    assert_fake_matches(FakeRTDEControl, rtde_control.RTDEControlInterface)
    assert_fake_matches(FakeRTDEReceive, rtde_receive.RTDEReceiveInterface)
    assert_fake_matches(FakeRTDEIO, rtde_io.RTDEIOInterface)


def test_constructor_does_no_io_and_commands_need_connect():
    robot, arm = make()
    assert not robot.is_connected and arm.calls == []
    with pytest.raises(RobotError, match="URRobot is not connected: call connect"):
        robot.servo((0.35, 0.0, 0.35), 0.0)
    robot.connect()
    assert robot.is_connected


def test_missing_sdk_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "rtde_control", None)
    with pytest.raises(RobotError, match=r"ur-rtde: pip install 'robocorrect\[hardware\]'"):
        URRobot(URConfig()).connect()


def test_units_and_frames_converted_once():
    robot, arm = make(base_xyz=(0.0, 0.0, -0.02), base_yaw=math.pi / 2, tcp_offset=(0, 0, 0.17, 0, 0, 0))
    arm.pose = [0.0, -0.4, 0.3, *rotvec_down(math.pi / 2)]  # arm frame: 0.4 m along the arm's -y = our +x
    robot.connect()
    assert arm.names("setTcp")[0][2] == ([0.0, 0.0, 0.17, 0.0, 0.0, 0.0],)
    st = robot.state()
    assert st.tcp_position == pytest.approx((0.4, 0.0, 0.28)) and st.tcp_yaw == pytest.approx(0.0, abs=1e-9)
    assert st.tcp_force == pytest.approx(5.0)
    robot.servo((0.401, 0.0, 0.28), 0.02)
    pose, speed, acc, t, look, gain = arm.names("servoL")[-1][2]
    assert pose[:3] == pytest.approx([0.0, -0.401, 0.30])
    assert t == pytest.approx(1 / 125) and (look, gain) == (0.1, 300.0)
    R = matrix_from_rotvec(pose[3:])
    assert -R[2][2] == pytest.approx(1.0)  # gripper down


def test_pick_sends_servoL_down_to_the_block_and_closes_the_gripper():
    robot, arm = make(gripper="tool_digital", gripper_pin=1)
    robot.connect()
    world = StaticWorld(scene(), robot)
    run_skill({"skill": "pick", "args": {"object": "red block"}}, robot, world)
    poses = [c[2][0] for c in arm.names("servoL")]
    assert len(poses) > 50 and min(p[2] for p in poses) < 0.04
    steps = [math.dist(a[:3], b[:3]) for a, b in zip(poses, poses[1:])]
    assert max(steps) <= robot.config.max_speed / robot.config.control_hz + 1e-9
    grips = [c[2] for c in arm.names("setToolDigitalOut")]
    assert grips[0] == (1, False) and grips[-1] == (1, True)  # opened, then closed
    for owner, name, args, kwargs in arm.calls:  # every call binds to the real SDK
        mod, cls = REAL[owner].split(".")
        assert_binds(getattr(pytest.importorskip(mod), cls), name, args, kwargs)


def test_connection_lost_mid_motion_stops_and_raises():
    robot, arm = make()
    robot.connect()
    arm.fail_servo_after = 20
    world = StaticWorld(scene(), robot)
    with pytest.raises(RobotError, match="UR servo was refused by the controller; the arm was told to stop"):
        run_skill({"skill": "pick", "args": {"object": "red block"}}, robot, world)
    assert arm.calls[-1][1] == "servoStop"
    n = len(arm.calls)
    with pytest.raises(RobotError, match="faulted"):
        robot.servo((0.35, 0.0, 0.35), 0.0)
    assert len(arm.calls) == n  # nothing more reached the arm


def test_protective_stop_during_tick_raises():
    robot, arm = make()
    robot.connect()
    arm.protective = True
    with pytest.raises(RobotError, match="UR: protective stop"):
        robot.tick()


def test_home_is_a_slow_moveL_and_disconnect_twice_is_harmless():
    robot, arm = make(home_speed=0.05, home_acc=0.3)
    robot.connect()
    robot.home()
    pose, speed, acc, asynchronous = arm.names("moveL")[0][2]
    assert pose[:3] == pytest.approx([0.35, 0.0, 0.35]) and (speed, acc, asynchronous) == (0.05, 0.3, False)
    robot.disconnect()
    robot.disconnect()
    assert len(arm.names("stopScript")) == 1 and not robot.is_connected


def test_factory_builds_ur_without_connecting():
    arm = Arm()
    robot = make_robot("ur", host="10.0.0.3", control=FakeRTDEControl(arm), receive=FakeRTDEReceive(arm))
    assert isinstance(robot, URRobot) and not robot.is_connected and arm.calls == []
    with pytest.raises(ValueError, match="bad ur setting 'colour'"):
        make_robot("ur", colour="red")


def test_pick_and_place_with_a_tool_output_gripper_that_reports_no_width():
    """A UR tool-output gripper cannot measure its opening: the state says so and the measured-scene world
    assumes the grasp when the gripper was told to close on the block (a missed grasp goes unnoticed there)."""
    from hardware.scene import BOWL_HEIGHT
    from skills.library import run_plan

    robot, arm = make(gripper="tool_digital", gripper_pin=0)
    robot.connect()
    assert robot.state().gripper_measured is False
    world = StaticWorld(Scene(objects=[SceneObject("red block", "block", "red", 0.04, (0.45, 0.05, 0.02)),
                                       SceneObject("green bowl", "bowl", "green", 0.16, (0.5, -0.15, BOWL_HEIGHT / 2))]), robot)
    outs = run_plan([{"skill": "pick", "args": {"object": "red block"}},
                     {"skill": "place", "args": {"target": "green bowl"}}], robot, world)
    assert [o.success for o in outs] == [True, True], [o.message for o in outs]
    assert world.is_in("red block", "green bowl")
    assert [c[2] for c in arm.names("setToolDigitalOut")][-1] == (0, False)  # released: the tool output is off
