"""Franka Emika Panda / FR3 behind :class:`hardware.base.Robot`, through ``franky-control`` (``import franky``:
``franky.Robot``, ``franky.Gripper``, ``franky.CartesianMotion``; install with
``pip install 'robocorrect[hardware]'``; needs a real-time kernel on the control PC). The SDK is imported in
:meth:`FrankaRobot.connect` only; the constructor does no I/O.

Units and frames, converted once here (:class:`hardware.streaming.StreamingArm`): franky poses are
``Affine(translation [m], quaternion [x, y, z, w])`` of the end effector (the Franka Hand's TCP, fingers
closing along its y axis) in the arm's base frame; ours are metres and a gripper yaw in our table frame. The
gripper-down pose for arm yaw ``a`` is the quaternion ``(cos(a/2), sin(a/2), 0, 0)``.

Control: every tick sends an asynchronous absolute ``CartesianMotion``, which takes over from the running
one (franky's real-time motion update); ``relative_dynamics`` scales franky's velocity, acceleration and jerk
limits. Stop is ``Robot.stop()``; errors (franky's ``ControlException`` / ``NetworkException``) surface from
``move`` or ``poll_motion`` and become :class:`hardware.base.RobotError` after a stop. ``recover()`` also calls
``recover_from_errors``. Gripper: ``grasp_async`` when closing (width, speed, force, with wide epsilons so
any object width counts), ``move_async`` when opening; width from ``Gripper.width``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Optional

from hardware.base import RobotError
from hardware.frames import Matrix, matrix_from_quat, quat_down
from hardware.streaming import INSTALL_HINT, StreamingArm, StreamingConfig


@dataclass
class FrankaConfig(StreamingConfig):
    """A Franka arm (units in :class:`StreamingConfig`). ``relative_dynamics`` (0..1]: franky's global
    dynamics factor. ``gripper_speed`` (m/s) for the Franka Hand; ``grasp_epsilon`` (m) the inner / outer
    tolerance of a grasp. ``gripper_max_width`` 0.08 m and ``gripper_max_force`` 70 N are the Hand's."""

    host: str = "172.16.0.2"
    relative_dynamics: float = 0.1
    gripper_speed: float = 0.05
    grasp_epsilon: float = 0.1
    gripper_max_width: float = 0.08
    gripper_max_force: float = 70.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 < self.relative_dynamics <= 1:
            raise ValueError("relative_dynamics must be in (0, 1]")


class FrankaRobot(StreamingArm):
    """A Franka arm through franky. ``franky``: a module (or stand-in) with franky's classes, used instead of
    importing it (tests inject a fake)."""

    vendor = "Franka"
    config: FrankaConfig

    def __init__(self, config: FrankaConfig | None = None, franky: Any = None,
                 clock: Optional[Callable[[], float]] = None, sleep: Optional[Callable[[float], None]] = None) -> None:
        kw = {k: v for k, v in (("clock", clock), ("sleep", sleep)) if v is not None}
        super().__init__(config or FrankaConfig(), **kw)
        self.fr = franky
        self.robot: Any = None
        self.gripper: Any = None

    def _open(self) -> None:
        if self.fr is None:
            try:
                import franky  # vendor SDK, optional dependency
            except ImportError as e:
                raise RobotError(f"the Franka driver needs franky-control: {INSTALL_HINT}") from e
            self.fr = franky
        try:
            self.robot = self.fr.Robot(self.config.host)
            self.gripper = self.fr.Gripper(self.config.host)
        except Exception as e:  # noqa: BLE001 - franky raises NetworkException when the arm is unreachable
            raise RobotError(f"cannot connect to the Franka arm at {self.config.host}: {e}") from e
        self.robot.relative_dynamics_factor = self.config.relative_dynamics
        self._sdk("recover_from_errors", self.robot.recover_from_errors)

    def _close(self) -> None:
        try:
            self.robot.stop()
        except Exception:  # noqa: BLE001 - closing must not fail halfway
            pass
        self.robot = self.gripper = None  # franky closes the connection when its objects go

    def _motion(self, position: tuple[float, float, float], arm_yaw: float) -> Any:
        fr = self.fr
        pose = fr.RobotPose(fr.Affine(list(position), list(quat_down(arm_yaw))))
        return fr.CartesianMotion(pose, fr.ReferenceType.Absolute)

    def _read_pose(self) -> tuple[tuple[float, float, float], Matrix]:
        ee = self.robot.current_cartesian_state.pose.end_effector_pose
        t = [float(v) for v in ee.translation]
        return (t[0], t[1], t[2]), matrix_from_quat(ee.quaternion)

    def _read_joints(self) -> tuple[float, ...]:
        return tuple(float(q) for q in self.robot.current_joint_state.position)

    def _read_force(self) -> Optional[float]:
        f = self.robot.state.O_F_ext_hat_K
        return math.sqrt(sum(float(v) ** 2 for v in list(f)[:3]))

    def _read_gripper(self) -> Optional[float]:
        return float(self.gripper.width)

    def _send_pose(self, position: tuple[float, float, float], arm_yaw: float) -> Any:
        return self.robot.move(self._motion(position, arm_yaw), asynchronous=True)

    def _move_home(self, position: tuple[float, float, float], arm_yaw: float) -> Any:
        return self.robot.move(self._motion(position, arm_yaw), asynchronous=False)

    def _send_gripper(self, width: float, force: float, closing: bool) -> Any:
        c = self.config
        if closing:
            return self.gripper.grasp_async(width, c.gripper_speed, force, epsilon_inner=c.grasp_epsilon,
                                            epsilon_outer=c.grasp_epsilon)
        return self.gripper.move_async(width, c.gripper_speed)

    def _stop_motion(self) -> Any:
        return self.robot.stop()

    def _health(self) -> Optional[str]:
        self.robot.poll_motion()  # raises the motion's ControlException, if any
        return None

    def recover(self) -> None:
        """``recover_from_errors`` on the arm, then as :meth:`StreamingArm.recover`."""
        self.require_connected()
        self.fault = None
        self._sdk("recover_from_errors", self.robot.recover_from_errors)
        super().recover()


__all__ = ["FrankaConfig", "FrankaRobot"]
