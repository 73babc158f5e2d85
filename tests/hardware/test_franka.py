"""FrankaRobot against a fake of franky (``franky.Robot``, ``Gripper``, ``Affine``, ``RobotPose``,
``CartesianMotion``) injected at the SDK boundary; every constructor and method call is bound against the
REAL franky signatures."""
from __future__ import annotations

import math
import sys
import types

import pytest

from hardware.base import RobotError
from hardware.factory import make_robot
from hardware.fixed_world import StaticWorld
from hardware.franka import FrankaConfig, FrankaRobot
from hardware.frames import matrix_from_quat, quat_down
from hardware.scene import Scene, SceneObject
from skills.library import run_plan

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from sdk_check import assert_binds, assert_fake_matches  # noqa: E402

CALLS: list[tuple[str, str, tuple, dict]] = []


class Affine:
    def __init__(self, translation=None, quaternion=None):
        CALLS.append(("Affine", "__init__", (translation, quaternion), {}))
        self.translation, self.quaternion = list(translation), list(quaternion)


class RobotPose:
    def __init__(self, end_effector_pose, elbow_state=None):
        CALLS.append(("RobotPose", "__init__", (end_effector_pose,), {}))
        self.end_effector_pose = end_effector_pose


class CartesianMotion:
    def __init__(self, target, reference_type=None, relative_dynamics_factor=1.0, return_when_finished=True, ee_frame=None):
        CALLS.append(("CartesianMotion", "__init__", (target, reference_type), {}))
        self.target = target


class ControlException(RuntimeError):
    pass


class Robot:
    lose_link_after: int | None = None

    def __init__(self, fci_hostname):
        CALLS.append(("Robot", "__init__", (fci_hostname,), {}))
        self.pose = types.SimpleNamespace(end_effector_pose=types.SimpleNamespace(
            translation=[0.35, 0.0, 0.35], quaternion=list(quat_down(0.0))))
        self.relative_dynamics_factor = 1.0
        self.moves = 0

    def move(self, motion, asynchronous=False, limit_rate=False, cutoff_frequency=100.0):
        CALLS.append(("Robot", "move", (motion,), {"asynchronous": asynchronous}))
        self.moves += 1
        if Robot.lose_link_after is not None and self.moves > Robot.lose_link_after:
            raise ControlException("libfranka: Move command aborted: motion aborted by reflex! [communication_constraints_violation]")
        self.pose = motion.target

    def stop(self):
        CALLS.append(("Robot", "stop", (), {}))

    def recover_from_errors(self):
        CALLS.append(("Robot", "recover_from_errors", (), {}))
        return True

    def poll_motion(self):
        return False

    @property
    def current_cartesian_state(self):
        return types.SimpleNamespace(pose=self.pose)

    @property
    def current_joint_state(self):
        return types.SimpleNamespace(position=[0.0, -0.3, 0.0, -2.2, 0.0, 1.9, 0.785])

    @property
    def state(self):
        return types.SimpleNamespace(O_F_ext_hat_K=[1.0, 2.0, 2.0, 0.0, 0.0, 0.0])


class Gripper:
    stop_at: float | None = 0.04  # the fingers stop on a 4 cm block

    def __init__(self, fci_hostname):
        CALLS.append(("Gripper", "__init__", (fci_hostname,), {}))
        self._width = 0.08

    def grasp_async(self, width, speed, force, epsilon_inner=0.005, epsilon_outer=0.005):
        CALLS.append(("Gripper", "grasp_async", (width, speed, force), {"epsilon_inner": epsilon_inner, "epsilon_outer": epsilon_outer}))
        self._width = max(width, Gripper.stop_at or 0.0)

    def move_async(self, width, speed):
        CALLS.append(("Gripper", "move_async", (width, speed), {}))
        self._width = width

    @property
    def width(self):
        return self._width


FAKE = types.SimpleNamespace(Robot=Robot, Gripper=Gripper, Affine=Affine, RobotPose=RobotPose,
                             CartesianMotion=CartesianMotion, ReferenceType=types.SimpleNamespace(Absolute="Absolute"))


@pytest.fixture(autouse=True)
def fresh():
    CALLS.clear()
    Robot.lose_link_after = None
    yield


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.t += s


def make(**cfg) -> FrankaRobot:
    c = Clock()
    return FrankaRobot(FrankaConfig(**cfg), franky=FAKE, clock=c, sleep=c.sleep)


def scene() -> Scene:
    return Scene(objects=[SceneObject("red block", "block", "red", 0.04, (0.45, 0.05, 0.02)),
                          SceneObject("green bowl", "bowl", "green", 0.16, (0.5, -0.15, 0.03))])


def test_fakes_follow_the_real_sdk():
    franky = pytest.importorskip("franky")
    for fake in (Robot, Gripper, Affine, RobotPose, CartesianMotion):
        assert_fake_matches(fake, getattr(franky, fake.__name__))
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
    Robot.lose_link_after = 15
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
