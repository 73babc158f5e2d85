"""Build any robot by kind: ``"sim"`` (the simulated Panda, PyBullet imported only then) or a vendor arm
(:func:`hardware.factory.make_robot`).

``make_robot("sim", **cfg)``: a :class:`sim.panda.SimPanda`. A simulated arm lives inside its
:class:`sim.world.SimWorld`, so this builds the world (``scene=`` an optional :class:`hardware.scene.Scene`,
other keywords are :class:`hardware.base.RobotConfig` fields) and returns ``world.robot``; the world is
``robot.world``. Units of every config field: metres, radians, seconds, newtons, base frame.
"""
from __future__ import annotations

from typing import Any

from hardware import factory as vendor
from hardware.base import Robot, RobotConfig
from hardware.factory import RobotSettingError

ROBOT_KINDS = ("sim",) + vendor.ROBOT_KINDS


def make_robot(kind: str = "sim", **cfg: Any) -> Robot:
    """A robot of ``kind`` (one of :data:`ROBOT_KINDS`) configured with ``cfg``; ValueError for an unknown kind or field."""
    if kind == "sim":
        from sim.world import SimWorld, WorldConfig  # heavy: PyBullet

        scene = cfg.pop("scene", None)
        try:
            robot_cfg = RobotConfig(**cfg)
        except TypeError as e:
            raise RobotSettingError(f"bad sim robot setting: {e}") from None
        return SimWorld(scene, WorldConfig(robot=robot_cfg)).robot
    if kind in vendor.ROBOT_KINDS:
        return vendor.make_robot(kind, **cfg)
    raise RobotSettingError(f"unknown robot kind {kind!r}; known kinds: {', '.join(ROBOT_KINDS)}")
