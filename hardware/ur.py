"""Universal Robots (UR3/5/10/16/20/30, e-Series and CB3) behind :class:`hardware.base.Robot`, through the
maintained ``ur-rtde`` driver (``rtde_control.RTDEControlInterface``, ``rtde_receive.RTDEReceiveInterface``,
``rtde_io.RTDEIOInterface``; install with ``pip install 'robocorrect[hardware]'``). The SDK is imported in
:meth:`URRobot.connect` only; the constructor does no I/O.

Units and frames, converted once here (:class:`hardware.streaming.StreamingArm`): ur-rtde poses are
``[x, y, z, rx, ry, rz]`` in metres and an axis-angle rotation vector (rad) in the arm's base frame; ours are
metres and a gripper yaw in our table frame (:mod:`hardware.frames`). The gripper-down pose for arm yaw
``a`` is the rotation vector ``pi * (cos(a/2), sin(a/2), 0)``.

Control: every tick streams ``servoL(pose, 0, 0, dt, lookahead_time, gain)`` (speed and acceleration are
unused by servoL; ``dt = 1 / control_hz`` is the time the controller takes to reach the pose).
:meth:`Robot.home` is a blocking ``moveL(pose, home_speed, home_acc)``; stop is ``servoStop(stop_acc)``.
A ``False`` reply, an exception, a lost connection (``isConnected()`` false) or a protective / emergency stop
stops the arm and raises :class:`hardware.base.RobotError`.

Gripper: ``gripper = "tool_digital"`` drives a gripper wired to tool digital output ``gripper_pin`` (on =
close) through ``RTDEIOInterface.setToolDigitalOut``; ``"none"`` for no gripper. Robotiq grippers over the
URCap socket are not covered here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Optional

from hardware.base import RobotError
from hardware.frames import Matrix, matrix_from_rotvec, rotvec_down
from hardware.streaming import INSTALL_HINT, StreamingArm, StreamingConfig

GRIPPERS = ("none", "tool_digital")


@dataclass
class URConfig(StreamingConfig):
    """A UR arm (units in :class:`StreamingConfig`). ``control_hz``: servoL rate (125 Hz on CB3, up to 500 Hz
    on e-Series). ``tcp_offset``: ``[x, y, z, rx, ry, rz]`` (m, axis-angle rad) from the flange to the TCP,
    written with ``setTcp`` at connect; None keeps the controller's. ``servo_lookahead`` (s, 0.03..0.2) and
    ``servo_gain`` (100..2000) are servoL's smoothing and stiffness; ``stop_acc`` (m/s^2) the stop deceleration."""

    control_hz: float = 125.0
    tcp_offset: Optional[tuple[float, float, float, float, float, float]] = None
    servo_lookahead: float = 0.1
    servo_gain: float = 300.0
    stop_acc: float = 2.0
    gripper: str = "none"
    gripper_pin: int = 0
    gripper_max_width: float = 0.085

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.gripper not in GRIPPERS:
            raise ValueError(f"unknown UR gripper {self.gripper!r}; known: {', '.join(GRIPPERS)}")
        if not 0.03 <= self.servo_lookahead <= 0.2 or not 100 <= self.servo_gain <= 2000:
            raise ValueError("servo_lookahead must be in [0.03, 0.2] s and servo_gain in [100, 2000] (servoL's ranges)")


class URRobot(StreamingArm):
    """A UR arm streamed with servoL. ``control`` / ``receive`` / ``io``: SDK objects to use instead of
    connecting (tests inject fakes); ``clock`` / ``sleep`` pace the loop."""

    vendor = "UR"
    config: URConfig

    def __init__(self, config: URConfig | None = None, control: Any = None, receive: Any = None, io: Any = None,
                 clock: Optional[Callable[[], float]] = None, sleep: Optional[Callable[[float], None]] = None) -> None:
        kw = {k: v for k, v in (("clock", clock), ("sleep", sleep)) if v is not None}
        super().__init__(config or URConfig(), **kw)
        self.control, self.receive, self.io = control, receive, io

    def _open(self) -> None:
        cfg = self.config
        if self.control is None or self.receive is None:
            try:
                import rtde_control  # vendor SDK, optional dependency
                import rtde_receive
            except ImportError as e:
                raise RobotError(f"the UR driver needs ur-rtde: {INSTALL_HINT}") from e
            try:
                self.receive = rtde_receive.RTDEReceiveInterface(cfg.host)
                self.control = rtde_control.RTDEControlInterface(cfg.host)
            except Exception as e:  # noqa: BLE001 - ur-rtde raises RuntimeError when the arm is unreachable
                raise RobotError(f"cannot connect to the UR arm at {cfg.host}: {e}") from e
        if cfg.gripper == "tool_digital" and self.io is None:
            import rtde_io

            self.io = rtde_io.RTDEIOInterface(cfg.host)
        if cfg.tcp_offset is not None:
            self._sdk("setTcp", self.control.setTcp, [float(v) for v in cfg.tcp_offset])

    def _close(self) -> None:
        for obj, name, args in ((self.control, "servoStop", (self.config.stop_acc,)), (self.control, "stopScript", ()),
                                (self.control, "disconnect", ()), (self.receive, "disconnect", ()), (self.io, "disconnect", ())):
            try:
                if obj is not None:
                    getattr(obj, name)(*args)
            except Exception:  # noqa: BLE001 - closing must not fail halfway
                pass

    def _read_pose(self) -> tuple[tuple[float, float, float], Matrix]:
        p = self.receive.getActualTCPPose()
        return (float(p[0]), float(p[1]), float(p[2])), matrix_from_rotvec(p[3:6])

    def _read_joints(self) -> tuple[float, ...]:
        return tuple(float(q) for q in self.receive.getActualQ())

    def _read_force(self) -> Optional[float]:
        f = self.receive.getActualTCPForce()
        return math.sqrt(sum(float(v) ** 2 for v in f[:3]))

    def _send_pose(self, position: tuple[float, float, float], arm_yaw: float) -> Any:
        cfg = self.config
        return self.control.servoL([*position, *rotvec_down(arm_yaw)], 0.0, 0.0, 1.0 / cfg.control_hz,
                                   cfg.servo_lookahead, cfg.servo_gain)

    def _move_home(self, position: tuple[float, float, float], arm_yaw: float) -> Any:
        cfg = self.config
        self.control.servoStop(cfg.stop_acc)
        return self.control.moveL([*position, *rotvec_down(arm_yaw)], cfg.home_speed, cfg.home_acc, False)

    def _send_gripper(self, width: float, force: float, closing: bool) -> Any:
        if self.config.gripper == "tool_digital":
            return self.io.setToolDigitalOut(self.config.gripper_pin, width < self.config.gripper_max_width / 2)
        return None

    def _stop_motion(self) -> Any:
        return self.control.servoStop(self.config.stop_acc)

    def _health(self) -> Optional[str]:
        if not self.control.isConnected() or not self.receive.isConnected():
            return "the connection to the controller was lost"
        if self.receive.isEmergencyStopped():
            return "emergency stop"
        if self.receive.isProtectiveStopped():
            return "protective stop"
        return None


__all__ = ["URConfig", "URRobot"]
