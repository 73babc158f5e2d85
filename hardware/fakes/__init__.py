"""Fakes of the vendor arm SDKs, at their API boundary, for tests and ``robocorrect bench control --robot fake-*``.

Each fake follows the installed SDK's real signatures (parameter names, order, defaults and units) and models an
ideal arm: the TCP goes where it is commanded, the gripper stops on an object of a set width. They stand in
for the vendor SDK only; the adapter in ``hardware/`` is the real one. :class:`CallLog` records every call and,
with ``check=True`` where the SDK is installed, binds each one against the REAL SDK class first
(:mod:`hardware.fakes.signatures`), so an adapter driven through a fake cannot call what the SDK does not have.

- :mod:`hardware.fakes.ur`: ur-rtde's ``RTDEControlInterface`` / ``RTDEReceiveInterface`` / ``RTDEIOInterface``.
- :mod:`hardware.fakes.franka`: franky's ``Robot``, ``Gripper``, ``Affine``, ``RobotPose``, ``CartesianMotion``.
- :mod:`hardware.fakes.xarm`: xarm-python-sdk's ``XArmAPI``.
- :func:`hardware.fakes.factory.make_fake_robot`: the real adapter over its fake, by kind.
"""
from __future__ import annotations

import importlib
from typing import Any, Optional

from hardware.errors import RobocorrectError


class SdkCallError(RobocorrectError, TypeError):
    """An adapter called a fake SDK in a way the real SDK does not accept; the message names the call."""


def real_class(path: str) -> Optional[type]:
    """The installed SDK's class ``"module.Class"``, or None when that SDK is not installed."""
    mod, _, cls = path.rpartition(".")
    try:
        return getattr(importlib.import_module(mod), cls)
    except ImportError:
        return None


class CallLog:
    """Every call made to a set of fakes: ``calls`` holds ``(owner, name, args, kwargs)``.

    ``real``: owner -> the real SDK class (None where not installed); when given, each call is bound against
    that class's real signature before it is recorded, and :class:`SdkCallError` is raised for one that does
    not bind. ``keep=False`` records nothing (long benchmark runs) but still checks."""

    def __init__(self, real: Optional[dict[str, Optional[type]]] = None, keep: bool = True) -> None:
        self.calls: list[tuple[str, str, tuple, dict]] = []
        self.real = real or {}
        self.keep = keep
        self.checked = 0  # calls bound against a real SDK class

    def rec(self, owner: str, name: str, *args: Any, **kwargs: Any) -> None:
        cls = self.real.get(owner)
        if cls is not None:
            from hardware.fakes.signatures import bind_error

            err = bind_error(cls, name, args, kwargs)
            if err is not None:
                raise SdkCallError(f"{owner}.{name}: {err}")
            self.checked += 1
        if self.keep:
            self.calls.append((owner, name, args, kwargs))

    def names(self, name: str) -> list[tuple[str, str, tuple, dict]]:
        """The recorded calls of method ``name``."""
        return [c for c in self.calls if c[1] == name]


__all__ = ["CallLog", "SdkCallError", "real_class"]
