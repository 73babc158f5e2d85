"""Build a robot by kind, importing its implementation (PyBullet, a vendor SDK) only when asked for.

``make_robot("sim", **cfg)``: a :class:`sim.panda.SimPanda`. A simulated arm lives inside its
:class:`sim.world.SimWorld`, so this builds the world (``scene=`` an optional :class:`sim.scene.Scene`,
other keywords are :class:`hardware.base.RobotConfig` fields) and returns ``world.robot``; the world is
``robot.world``.

``make_robot("xarm", **cfg)``: a :class:`hardware.xarm.XArmRobot`; keywords are
:class:`hardware.xarm.XArmConfig` fields (``ip=...``), plus ``api=`` to inject an SDK stand-in (tests).
Needs ``pip install 'robocorrect[hardware]'`` unless ``api`` is given.

Units of every config field: metres, radians, seconds, newtons, base frame (see ``hardware.base``).
"""
from __future__ import annotations

from typing import Any

from hardware.base import Robot, RobotConfig

ROBOT_KINDS = ("sim", "xarm")


def make_robot(kind: str = "sim", **cfg: Any) -> Robot:
    """A robot of ``kind`` ('sim' or 'xarm') configured with ``cfg``; ValueError for an unknown kind or field."""
    if kind == "sim":
        from sim.world import SimWorld, WorldConfig  # heavy: PyBullet

        scene = cfg.pop("scene", None)
        try:
            robot_cfg = RobotConfig(**cfg)
        except TypeError as e:
            raise ValueError(f"bad sim robot setting: {e}") from None
        return SimWorld(scene, WorldConfig(robot=robot_cfg)).robot
    if kind == "xarm":
        from hardware.xarm import XArmConfig, XArmRobot

        api = cfg.pop("api", None)
        try:
            xcfg = XArmConfig(**cfg)
        except TypeError as e:
            raise ValueError(f"bad xarm setting: {e}") from None
        return XArmRobot(xcfg, api=api)
    raise ValueError(f"unknown robot kind {kind!r}; known kinds: {', '.join(ROBOT_KINDS)}")


__all__ = ["make_robot", "ROBOT_KINDS"]
