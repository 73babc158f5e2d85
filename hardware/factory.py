"""Build a vendor robot by kind, importing its implementation and SDK only when asked for (LeRobot's
``make_robot_from_config``). Constructing does no I/O: call ``connect()`` (or use ``with robot:``).

Vendor arms only: the simulated arm lives in a higher layer (``sim/``) and is built by
:func:`agent.robots.make_robot`, which adds the ``"sim"`` kind and delegates the rest here.

- ``make_robot("xarm", **cfg)``: :class:`hardware.xarm.XArmRobot` (UFactory xArm 5/6/7, Lite 6); keywords are
  :class:`hardware.xarm.XArmConfig` fields (``ip=...``), plus ``api=`` to inject an SDK stand-in (tests).
- ``make_robot("ur", **cfg)``: :class:`hardware.ur.URRobot` (Universal Robots, ``ur-rtde``); keywords are
  :class:`hardware.ur.URConfig` fields (``host=...``), plus ``control=`` / ``receive=`` / ``io=`` stand-ins.
- ``make_robot("franka", **cfg)``: :class:`hardware.franka.FrankaRobot` (Panda / FR3, ``franky-control``);
  keywords are :class:`hardware.franka.FrankaConfig` fields, plus ``franky=`` (a stand-in module).

The SDKs come with ``pip install 'robocorrect[hardware]'``. Units of every config field: metres, radians,
seconds, newtons, base frame (see ``hardware.base``).
"""
from __future__ import annotations

from dataclasses import fields
from typing import Any

from hardware.base import Robot, RobotConfig
from hardware.errors import UsageError

ROBOT_KINDS = ("xarm", "ur", "franka")
_INJECT = {"xarm": ("api",), "ur": ("control", "receive", "io"), "franka": ("franky",)}


class RobotSettingError(UsageError, ValueError):
    """An unknown robot kind or a bad robot setting; the message names it."""


def _config(cls: type[RobotConfig], kind: str, cfg: dict[str, Any]) -> Any:
    known = {f.name for f in fields(cls)}
    for key in cfg:
        if key not in known:
            raise RobotSettingError(f"bad {kind} setting {key!r}; known: {', '.join(sorted(known))}")
    try:
        return cls(**cfg)
    except (TypeError, ValueError) as e:
        raise RobotSettingError(f"bad {kind} setting: {e}") from None


def make_robot(kind: str, **cfg: Any) -> Robot:
    """A vendor robot of ``kind`` (one of :data:`ROBOT_KINDS`) configured with ``cfg``, not connected yet;
    :class:`RobotSettingError` (a ValueError) for an unknown kind or field."""
    if kind not in ROBOT_KINDS:
        raise RobotSettingError(f"unknown robot kind {kind!r}; known kinds: {', '.join(ROBOT_KINDS)}")
    sdk = {k: cfg.pop(k) for k in _INJECT[kind] if k in cfg}
    if kind == "xarm":
        from hardware.xarm import XArmConfig, XArmRobot

        return XArmRobot(_config(XArmConfig, kind, cfg), **sdk)
    if kind == "ur":
        from hardware.ur import URConfig, URRobot

        return URRobot(_config(URConfig, kind, cfg), **sdk)
    from hardware.franka import FrankaConfig, FrankaRobot

    return FrankaRobot(_config(FrankaConfig, kind, cfg), **sdk)


__all__ = ["make_robot", "ROBOT_KINDS", "RobotSettingError"]
