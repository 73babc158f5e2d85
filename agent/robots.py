"""Build any robot by kind, behind the safety layer: ``"sim"`` (the simulated Panda, PyBullet imported only then)
or a vendor arm (:func:`hardware.factory.make_robot`).

``make_robot("sim", **cfg)``: a :class:`sim.panda.SimPanda`. A simulated arm lives inside its
:class:`sim.world.SimWorld`, so this builds the world (``scene=`` an optional :class:`hardware.scene.Scene`,
other keywords are :class:`hardware.base.RobotConfig` fields); the world is ``robot.robot.world``. Units of every
config field: metres, radians, seconds, newtons, base frame.

Every robot comes wrapped in :class:`hardware.safe_robot.SafeRobot` (``limits=`` a
:class:`hardware.safety.SafetyLimits`, default :func:`hardware.safe_robot.default_limits` of the robot's config);
``safety=False`` gives the bare driver, for tests of the driver itself. A :class:`agent.session.TeachingSession`
wraps whatever it is given anyway (:func:`hardware.safe_robot.ensure_safe`).
"""
from __future__ import annotations

from typing import Any, Optional

from hardware import factory as vendor
from hardware.base import Robot, RobotConfig
from hardware.factory import RobotSettingError
from hardware.safe_robot import SafeRobot
from hardware.safety import SafetyLimits

ROBOT_KINDS = ("sim",) + vendor.ROBOT_KINDS


def make_robot(kind: str = "sim", safety: bool = True, limits: Optional[SafetyLimits] = None, **cfg: Any) -> Robot:
    """A robot of ``kind`` (one of :data:`ROBOT_KINDS`) configured with ``cfg``, behind the safety layer unless
    ``safety=False``; :class:`RobotSettingError` (a ValueError) for an unknown kind or field."""
    if kind == "sim":
        from sim.world import SimWorld, WorldConfig  # heavy: PyBullet

        scene = cfg.pop("scene", None)
        try:
            robot_cfg = RobotConfig(**cfg)
        except TypeError as e:
            raise RobotSettingError(f"bad sim robot setting: {e}") from None
        robot: Robot = SimWorld(scene, WorldConfig(robot=robot_cfg)).robot
    elif kind in vendor.ROBOT_KINDS:
        robot = vendor.make_robot(kind, **cfg)
    else:
        raise RobotSettingError(f"unknown robot kind {kind!r}; known kinds: {', '.join(ROBOT_KINDS)}")
    if not safety:
        if limits is not None:
            raise RobotSettingError("limits= needs safety=True")
        return robot
    return SafeRobot(robot, limits)


__all__ = ["make_robot", "ROBOT_KINDS"]
