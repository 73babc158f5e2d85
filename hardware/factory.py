"""Build a robot by kind, importing its implementation (PyBullet, a vendor SDK) only when asked for.

Vendor arms only: the simulated arm lives in a higher layer (``sim/``) and is built by
:func:`agent.robots.make_robot`, which adds the ``"sim"`` kind and delegates the rest here.

``make_robot("xarm", **cfg)``: a :class:`hardware.xarm.XArmRobot`; keywords are
:class:`hardware.xarm.XArmConfig` fields (``ip=...``), plus ``api=`` to inject an SDK stand-in (tests).
Needs ``pip install 'robocorrect[hardware]'`` unless ``api`` is given.

Units of every config field: metres, radians, seconds, newtons, base frame (see ``hardware.base``).
"""
from __future__ import annotations

from typing import Any

from hardware.base import Robot

ROBOT_KINDS = ("xarm",)


def make_robot(kind: str, **cfg: Any) -> Robot:
    """A vendor robot of ``kind`` ('xarm') configured with ``cfg``; ValueError for an unknown kind or field."""
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
