"""The real vendor adapters over their SDK fakes, by kind: ``make_fake_robot("fake-ur")`` is a
:class:`hardware.ur.URRobot` talking to :mod:`hardware.fakes.ur` instead of a controller, paced in real time
(``time.monotonic``) like on the arm. Used by ``robocorrect bench control --robot fake-*`` and tests.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from hardware.base import Robot
from hardware.errors import UsageError

FAKE_KINDS = ("fake-ur", "fake-franka", "fake-xarm")


@dataclass
class FakeArm:
    """A real adapter (``robot``, not connected yet) and the fake SDK state it talks to (``sdk``: the call log)."""

    robot: Robot
    sdk: Any

    @property
    def checked(self) -> int:
        """SDK calls so far that were bound against the real SDK's signatures (0 where it is not installed)."""
        return int(self.sdk.checked)


def make_fake_robot(kind: str, object_width: float = 0.04, check: bool = True, keep: bool = False,
                    clock: Optional[Callable[[], float]] = None, sleep: Optional[Callable[[float], None]] = None,
                    **cfg: Any) -> FakeArm:
    """The adapter of ``kind`` (one of :data:`FAKE_KINDS`) over its SDK fake. ``object_width`` (m): where the
    closing fingers stop (the block's size; the UR's tool-output gripper reports no width). ``check``: bind every
    SDK call against the real SDK class where installed; ``keep``: record the calls. ``clock`` / ``sleep``: the
    adapter's pacing (default the real ``time.monotonic`` / ``time.sleep``). ``cfg``: the driver's config fields
    (``control_hz=...``)."""
    pace = {k: v for k, v in (("clock", clock), ("sleep", sleep)) if v is not None}
    if kind == "fake-ur":
        from hardware.fakes.ur import Arm, FakeRTDEControl, FakeRTDEIO, FakeRTDEReceive
        from hardware.ur import URConfig, URRobot

        arm = Arm(check=check, keep=keep)
        return FakeArm(URRobot(URConfig(**{"gripper": "tool_digital", **cfg}), control=FakeRTDEControl(arm),
                               receive=FakeRTDEReceive(arm), io=FakeRTDEIO(arm), **pace), arm)
    if kind == "fake-franka":
        from hardware.fakes.franka import FakeFranky
        from hardware.franka import FrankaConfig, FrankaRobot

        fr = FakeFranky(check=check, keep=keep, stop_at=object_width)
        return FakeArm(FrankaRobot(FrankaConfig(**cfg), franky=fr.module, **pace), fr)
    if kind == "fake-xarm":
        from hardware.fakes.xarm import FakeXArmAPI
        from hardware.xarm import XArmConfig, XArmRobot, width_to_units

        xc = XArmConfig(**cfg)
        api = FakeXArmAPI(grip_stop_units=width_to_units(object_width, xc), check=check, keep=keep)
        return FakeArm(XArmRobot(xc, api=api, **pace), api)
    raise UsageError(f"unknown fake robot {kind!r}; known: {', '.join(FAKE_KINDS)}")


__all__ = ["FAKE_KINDS", "FakeArm", "make_fake_robot"]
