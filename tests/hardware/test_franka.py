"""FrankaRobot against a fake of franky (``franky.Robot``, ``Gripper``, ``Affine``, ``RobotPose``,
``CartesianMotion``) injected at the SDK boundary; every constructor and method call is bound against the
REAL franky signatures. The fake lives in ``hardware/fakes/franka.py``."""
from __future__ import annotations

import pytest

from hardware.base import RobotError
from hardware.factory import make_robot
from hardware.fixed_world import StaticWorld
from hardware.franka import FrankaConfig, FrankaRobot
from hardware.frames import matrix_from_quat
from hardware.scene import Scene, SceneObject
from skills.library import run_plan

from hardware.fakes.franka import OWNERS, FakeFranky
from hardware.fakes.signatures import assert_binds, assert_fake_matches
from manual_clock import ManualClock

FAKE_SDK: FakeFranky = FakeFranky()


@pytest.fixture(autouse=True)
def fresh():
    global FAKE_SDK, FAKE, CALLS
    FAKE_SDK = FakeFranky()
    FAKE, CALLS = FAKE_SDK.module, FAKE_SDK.calls
    yield


def make(**cfg) -> FrankaRobot:
    c = ManualClock()
    return FrankaRobot(FrankaConfig(**cfg), franky=FAKE, clock=c, sleep=c.sleep)


def scene() -> Scene:
    return Scene(objects=[SceneObject("red block", "block", "red", 0.04, (0.45, 0.05, 0.02)),
                          SceneObject("green bowl", "bowl", "green", 0.16, (0.5, -0.15, 0.03))])


def test_fakes_follow_the_real_sdk():
    franky = pytest.importorskip("franky")
    for name in OWNERS:
        assert_fake_matches(getattr(FAKE, name), getattr(franky, name))
    for prop in ("current_cartesian_state", "current_joint_state", "state", "relative_dynamics_factor"):
        assert hasattr(franky.Robot, prop)
    assert hasattr(franky.Gripper, "width") and hasattr(franky.ReferenceType, "Absolute")


def test_constructor_does_no_io():
    robot = make()
    assert CALLS == [] and not robot.is_connected
    with pytest.raises(RobotError, match="not connected: call connect"):
        robot.set_gripper(0.0, 10.0)
    robot.connect()
    assert [c[:2] for c in CALLS[:3]] == [("Robot", "__init__"), ("Gripper", "__init__"), ("Robot", "recover_from_errors")]
    assert robot.robot.relative_dynamics_factor == 0.1


def test_pick_and_place_calls_and_units():
    robot = make(base_xyz=(0.0, 0.0, -0.01))
    robot.connect()
    world = StaticWorld(scene(), robot)
    outs = run_plan([{"skill": "pick", "args": {"object": "red block"}},
                     {"skill": "place", "args": {"target": "green bowl"}}], robot, world)
    assert [o.success for o in outs] == [True, True], [o.message for o in outs]
    moves = [c[2][0].target.end_effector_pose for c in CALLS if c[1] == "move"]
    assert all(c[3]["asynchronous"] is True for c in CALLS if c[1] == "move")
    assert min(m.translation[2] for m in moves) < 0.05  # arm frame: 1 cm lower than ours
    assert all(-matrix_from_quat(m.quaternion)[2][2] == pytest.approx(1.0) for m in moves)  # gripper down
    grasp = [c for c in CALLS if c[1] == "grasp_async"][0]
    assert grasp[2][0] == 0.0 and grasp[3]["epsilon_outer"] == pytest.approx(0.1)
    assert world.is_in("red block", "green bowl")
    franky = pytest.importorskip("franky")
    for owner, name, args, kwargs in CALLS:
        assert_binds(getattr(franky, owner), name, args, kwargs)


def test_connection_lost_mid_motion_stops_and_raises():
    robot = make()
    robot.connect()
    FAKE_SDK.lose_link_after = 15
    world = StaticWorld(scene(), robot)
    with pytest.raises(RobotError, match="Franka servo failed: ControlException: .*reflex.*the arm was told to stop"):
        run_plan([{"skill": "pick", "args": {"object": "red block"}}], robot, world)
    assert CALLS[-1][:2] == ("Robot", "stop")
    with pytest.raises(RobotError, match="faulted"):
        robot.servo((0.35, 0.0, 0.35), 0.0)
    robot.recover()
    assert CALLS[-1][:2] == ("Robot", "recover_from_errors") or ("Robot", "recover_from_errors") in [c[:2] for c in CALLS[-3:]]


def test_state_reports_force_joints_and_measured_width():
    robot = make()
    robot.connect()
    st = robot.state()
    assert st.tcp_force == pytest.approx(3.0) and len(st.joints) == 7 and st.gripper_width == pytest.approx(0.08)
    assert st.tcp_position == pytest.approx((0.35, 0.0, 0.35)) and st.tcp_yaw == pytest.approx(0.0, abs=1e-9)


def test_factory_and_context_manager():
    with make_robot("franka", host="172.16.0.9", franky=FAKE) as robot:
        assert robot.is_connected and CALLS[0][2] == ("172.16.0.9",)
    assert not robot.is_connected and CALLS[-1][:2] == ("Robot", "stop")
