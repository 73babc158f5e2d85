"""A fake of xarm-python-sdk's ``XArmAPI`` (``from xarm.wrapper import XArmAPI``) at its API boundary.

Signatures follow xarm-python-sdk 1.18 (``xarm.wrapper.XArmAPI``); units as the SDK's with ``is_radian=False``:
poses ``[x, y, z, roll, pitch, yaw]`` in mm and degrees, xArm Gripper positions 0 (closed) .. 850 (open).
The arm is ideal: a set-point becomes the pose at once; the gripper stops at ``grip_stop_units`` when closing
on an object. ``codes[name] = code`` makes that method return ``code``. ``calls`` holds ``(name, args, kwargs)``
of commands, ``reads`` of getters. With ``check=True`` (where the SDK is installed) every call is first bound
against the real ``XArmAPI`` signature (:class:`hardware.fakes.SdkCallError` if it does not bind).
"""
from __future__ import annotations

from typing import Any, Optional

from hardware.fakes import SdkCallError, real_class


class FakeXArmAPI:
    """Records every call; ``codes[name] = code`` makes that method return ``code``."""

    TEST_HELPERS = ("names",)  # not XArmAPI's: inspection of what was sent

    def __init__(self, pose=(350.0, 0.0, 350.0, 180.0, 0.0, 0.0), grip_stop_units: Optional[int] = None,
                 check: bool = False, keep: bool = True) -> None:
        self.calls: list[tuple[str, tuple, dict]] = []
        self.reads: list[tuple[str, tuple, dict]] = []  # getters, kept apart so call counts stay readable
        self.pose = list(pose)
        self.grip_units = 850
        self.grip_stop_units = grip_stop_units  # fingers stop here when closing on an object
        self.codes: dict[str, int] = {}
        self.error_code = 0
        self.mode = 0
        self.state = 0
        self.real = real_class("xarm.wrapper.XArmAPI") if check else None
        self.keep = keep
        self.checked = 0

    def _check(self, name: str, args: tuple, kwargs: dict) -> None:
        if self.real is not None:
            from hardware.fakes.signatures import bind_error

            err = bind_error(self.real, name, args, kwargs)
            if err is not None:
                raise SdkCallError(f"XArmAPI.{name}: {err}")
            self.checked += 1

    def _rec(self, name: str, *args: Any, **kwargs: Any) -> int:
        self._check(name, args, kwargs)
        if self.keep:
            self.calls.append((name, args, kwargs))
        return self.codes.get(name, 0)

    def _read(self, name: str, **kwargs: Any) -> None:
        self._check(name, (), kwargs)
        if self.keep:
            self.reads.append((name, (), kwargs))

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]

    # set-up
    def clean_error(self): return self._rec("clean_error")
    def clean_warn(self): return self._rec("clean_warn")
    def motion_enable(self, enable=True, servo_id=None): return self._rec("motion_enable", enable=enable)

    def set_mode(self, mode=0, detection_param=0):
        self.mode = mode
        return self._rec("set_mode", mode)

    def set_state(self, state=0):
        self.state = state
        return self._rec("set_state", state)

    def set_tcp_offset(self, offset, is_radian=None, wait=True, **kwargs): return self._rec("set_tcp_offset", offset, is_radian=is_radian)
    def set_gripper_mode(self, mode, **kwargs): return self._rec("set_gripper_mode", mode)
    def set_gripper_enable(self, enable, **kwargs): return self._rec("set_gripper_enable", enable)
    def set_gripper_speed(self, speed, **kwargs): return self._rec("set_gripper_speed", speed)

    def get_err_warn_code(self, show=False, lang="en"):
        self._read("get_err_warn_code")
        return 0, [31, 0]

    # motion
    def set_servo_cartesian(self, mvpose, speed=None, mvacc=None, mvtime=0, is_radian=None, is_tool_coord=False, **kwargs):
        if self.mode != 1:
            raise SdkCallError("set_servo_cartesian needs servo motion mode (set_mode(1))")
        code = self._rec("set_servo_cartesian", list(mvpose), is_radian=is_radian)
        if code == 0:
            self.pose = list(mvpose)
        return code

    def set_position(self, x=None, y=None, z=None, roll=None, pitch=None, yaw=None, radius=None, speed=None, mvacc=None,
                     mvtime=None, relative=False, is_radian=None, wait=False, timeout=None, **kwargs):
        code = self._rec("set_position", x=x, y=y, z=z, roll=roll, pitch=pitch, yaw=yaw, speed=speed, mvacc=mvacc, wait=wait)
        if code == 0:
            self.pose = [x, y, z, roll, pitch, yaw]
        return code

    def get_position(self, is_radian=None):
        if is_radian is not False:
            raise SdkCallError("the adapter must read poses in degrees (is_radian=False)")
        self._read("get_position", is_radian=is_radian)
        return 0, list(self.pose)

    def get_servo_angle(self, servo_id=None, is_radian=None, is_real=False):
        self._read("get_servo_angle", is_radian=is_radian)
        return 0, [0.0] * 6

    # gripper
    def set_gripper_position(self, pos, wait=False, speed=None, auto_enable=False, timeout=None, **kwargs):
        code = self._rec("set_gripper_position", pos, wait=wait, speed=speed)
        if code == 0:
            stop = self.grip_stop_units
            self.grip_units = max(pos, stop) if stop is not None and pos < stop else pos
        return code

    def get_gripper_position(self, **kwargs):
        self._read("get_gripper_position")
        return 0, self.grip_units

    def open_lite6_gripper(self, sync=True): return self._rec("open_lite6_gripper")
    def close_lite6_gripper(self, sync=True): return self._rec("close_lite6_gripper")
    def disconnect(self): self._rec("disconnect")


__all__ = ["FakeXArmAPI"]
