"""A fake of ur-rtde at its API boundary: ``RTDEControlInterface``, ``RTDEReceiveInterface``, ``RTDEIOInterface``.

Signatures follow ur-rtde 1.6 (pybind11: unnamed ``arg0 ...`` parameters where the real ones are unnamed).
Units as ur-rtde's: poses ``[x, y, z, rx, ry, rz]`` in metres and an axis-angle rotation vector (rad) in the
arm's base frame; forces in N. The arm is ideal: ``servoL`` / ``moveL`` put the TCP at the pose at once.
``Arm.fail_servo_after = n`` drops the link after ``n`` servoL calls (servoL then returns False, as ur-rtde
does when its control script is gone); ``Arm.protective`` raises a protective stop.
"""
from __future__ import annotations

from typing import Optional

from hardware.fakes import CallLog, real_class
from hardware.frames import rotvec_down

REAL = {"control": "rtde_control.RTDEControlInterface", "receive": "rtde_receive.RTDEReceiveInterface",
        "io": "rtde_io.RTDEIOInterface"}


class Arm(CallLog):
    """What the three fakes share: the TCP pose (m, axis-angle rad), the link, the call log."""

    def __init__(self, check: bool = False, keep: bool = True) -> None:
        super().__init__({k: real_class(v) for k, v in REAL.items()} if check else None, keep)
        self.pose = [0.35, 0.0, 0.35, *rotvec_down(0.0)]
        self.connected = True
        self.protective = False
        self.tool_out: dict[int, bool] = {}
        self.fail_servo_after: Optional[int] = None
        self.servos = 0


class FakeRTDEControl:
    def __init__(self, arm: Arm) -> None:
        self._arm = arm

    def servoL(self, arg0, arg1, arg2, arg3, arg4, arg5):
        a = self._arm
        a.rec("control", "servoL", arg0, arg1, arg2, arg3, arg4, arg5)
        a.servos += 1
        if a.fail_servo_after is not None and a.servos > a.fail_servo_after:
            a.connected = False
        if not a.connected:
            return False  # ur-rtde: the control script is gone
        a.pose = list(arg0)
        return True

    def moveL(self, pose, speed=0.25, acceleration=1.2, asynchronous=False):
        self._arm.rec("control", "moveL", pose, speed, acceleration, asynchronous)
        self._arm.pose = list(pose)
        return True

    def servoStop(self, a=10.0):
        self._arm.rec("control", "servoStop", a)
        return True

    def setTcp(self, arg0):
        self._arm.rec("control", "setTcp", arg0)
        return True

    def isConnected(self):
        self._arm.rec("control", "isConnected")
        return self._arm.connected

    def stopScript(self):
        self._arm.rec("control", "stopScript")

    def disconnect(self):
        self._arm.rec("control", "disconnect")


class FakeRTDEReceive:
    def __init__(self, arm: Arm) -> None:
        self._arm = arm

    def getActualTCPPose(self):
        self._arm.rec("receive", "getActualTCPPose")
        return list(self._arm.pose)

    def getActualQ(self):
        self._arm.rec("receive", "getActualQ")
        return [0.0, -1.57, 1.57, -1.57, -1.57, 0.0]

    def getActualTCPForce(self):
        self._arm.rec("receive", "getActualTCPForce")
        return [3.0, 4.0, 0.0, 0.0, 0.0, 0.0]

    def isConnected(self):
        self._arm.rec("receive", "isConnected")
        return self._arm.connected

    def isProtectiveStopped(self):
        self._arm.rec("receive", "isProtectiveStopped")
        return self._arm.protective

    def isEmergencyStopped(self):
        self._arm.rec("receive", "isEmergencyStopped")
        return False

    def disconnect(self):
        self._arm.rec("receive", "disconnect")


class FakeRTDEIO:
    def __init__(self, arm: Arm) -> None:
        self._arm = arm

    def setToolDigitalOut(self, arg0, arg1):
        self._arm.rec("io", "setToolDigitalOut", arg0, arg1)
        self._arm.tool_out[int(arg0)] = bool(arg1)
        return True

    def disconnect(self):
        self._arm.rec("io", "disconnect")


FAKES = {"control": FakeRTDEControl, "receive": FakeRTDEReceive, "io": FakeRTDEIO}

__all__ = ["Arm", "FakeRTDEControl", "FakeRTDEReceive", "FakeRTDEIO", "FAKES", "REAL"]
