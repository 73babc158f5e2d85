"""A fake of franky (``franky-control``) at its API boundary: a module with ``Robot``, ``Gripper``, ``Affine``,
``RobotPose``, ``CartesianMotion`` and ``ReferenceType``, whose signatures follow franky 2.0.

Units as franky's: ``Affine(translation [m], quaternion [x, y, z, w])`` in the arm's base frame, gripper widths
in m, speeds in m/s, forces in N. The arm is ideal: a motion's target becomes the end-effector pose at once.
``FakeFranky.lose_link_after = n`` makes the (n+1)-th ``move`` raise ``ControlException`` (a reflex, as libfranka
reports a broken link); ``stop_at`` (m) is the width at which closing fingers meet an object (None: nothing).

    fake = FakeFranky()
    robot = FrankaRobot(FrankaConfig(), franky=fake.module)
"""
from __future__ import annotations

import types
from typing import Any, Optional

from hardware.fakes import CallLog, real_class
from hardware.frames import quat_down

OWNERS = ("Robot", "Gripper", "Affine", "RobotPose", "CartesianMotion")


class ControlException(RuntimeError):
    """Stands in for ``franky.ControlException``."""


class FakeFranky(CallLog):
    """The fake module (``module``) and the state its classes share: end-effector pose, gripper width, calls."""

    def __init__(self, check: bool = False, keep: bool = True, stop_at: Optional[float] = 0.04) -> None:
        super().__init__({k: real_class(f"franky.{k}") for k in OWNERS} if check else None, keep)
        self.lose_link_after: Optional[int] = None
        self.stop_at = stop_at
        self.moves = 0
        self.module = types.SimpleNamespace(**_classes(self), ControlException=ControlException,
                                            ReferenceType=types.SimpleNamespace(Absolute="Absolute", Relative="Relative"))
        self.robot: Any = None
        self.gripper: Any = None


def _classes(log: FakeFranky) -> dict[str, type]:
    """franky's classes bound to ``log`` (each fake module gets its own)."""

    class Affine:
        def __init__(self, translation=None, quaternion=None):
            log.rec("Affine", "__init__", translation, quaternion)
            self.translation, self.quaternion = list(translation), list(quaternion)

    class RobotPose:
        def __init__(self, end_effector_pose, elbow_state=None):
            log.rec("RobotPose", "__init__", end_effector_pose)
            self.end_effector_pose = end_effector_pose

    class CartesianMotion:
        def __init__(self, target, reference_type=None, relative_dynamics_factor=1.0, return_when_finished=True, ee_frame=None):
            log.rec("CartesianMotion", "__init__", target, reference_type)
            self.target = target

    class Robot:
        def __init__(self, fci_hostname):
            log.rec("Robot", "__init__", fci_hostname)
            self.pose = types.SimpleNamespace(end_effector_pose=types.SimpleNamespace(
                translation=[0.35, 0.0, 0.35], quaternion=list(quat_down(0.0))))
            self.relative_dynamics_factor = 1.0
            log.robot = self

        def move(self, motion, asynchronous=False, limit_rate=False, cutoff_frequency=100.0):
            log.rec("Robot", "move", motion, asynchronous=asynchronous)
            log.moves += 1
            if log.lose_link_after is not None and log.moves > log.lose_link_after:
                raise ControlException("libfranka: Move command aborted: motion aborted by reflex! "
                                       "[communication_constraints_violation]")
            self.pose = motion.target

        def stop(self):
            log.rec("Robot", "stop")

        def recover_from_errors(self):
            log.rec("Robot", "recover_from_errors")
            return True

        def poll_motion(self):
            log.rec("Robot", "poll_motion")
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
        def __init__(self, fci_hostname):
            log.rec("Gripper", "__init__", fci_hostname)
            self._width = 0.08
            log.gripper = self

        def grasp_async(self, width, speed, force, epsilon_inner=0.005, epsilon_outer=0.005):
            log.rec("Gripper", "grasp_async", width, speed, force, epsilon_inner=epsilon_inner, epsilon_outer=epsilon_outer)
            self._width = max(width, log.stop_at or 0.0)

        def move_async(self, width, speed):
            log.rec("Gripper", "move_async", width, speed)
            self._width = width

        @property
        def width(self):
            return self._width

    return {"Robot": Robot, "Gripper": Gripper, "Affine": Affine, "RobotPose": RobotPose, "CartesianMotion": CartesianMotion}


__all__ = ["FakeFranky", "ControlException", "OWNERS"]
