"""What every streamed Cartesian arm adapter shares: lifecycle, fault latching, set-point clipping, pacing and
the one place where our frame becomes the arm's (:class:`StreamingArm`). Each vendor adapter
(``hardware/ur.py``, ``hardware/franka.py``) only fills in the SDK hooks (``_open``, ``_send_pose``, ...).

Frames and units: ours is the table frame of :mod:`hardware.frames` (m, rad); ``StreamingConfig.base_xyz`` /
``base_yaw`` place the arm's base in it, ``yaw_offset`` is the arm yaw at which the fingers close along our y.
Every SDK call goes through :meth:`StreamingArm._sdk`: an exception or a ``False`` reply latches a fault,
asks the arm to stop (best effort) and raises :class:`hardware.base.RobotError`; later commands raise at once
without talking to the arm until :meth:`StreamingArm.recover`.
"""
from __future__ import annotations

import logging
import math
import time
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

from hardware.base import Robot, RobotConfig, RobotError, RobotState, ServoCommand
from hardware.frames import BaseFrame, Matrix, finger_yaw, limit_setpoint, tool_down_cos, wrap_half_turn
from hardware.pacing import Pacer

logger = logging.getLogger(__name__)
INSTALL_HINT = "pip install 'robocorrect[hardware]'"
DOWN_TOLERANCE_DEG = 5.0  # servo refuses to start when the tool axis is further than this from straight down


@dataclass
class StreamingConfig(RobotConfig):
    """Fields of every streamed arm (m, rad, s). ``host``: controller address. ``base_xyz`` (m) / ``base_yaw``
    (rad): the arm base in our table frame. ``yaw_offset`` (rad): arm yaw with the fingers along our y.
    ``max_yaw_rate`` (rad/s) caps the yaw step per tick. ``home_tcp`` (m, our frame), ``home_speed`` (m/s)
    and ``home_acc`` (m/s^2): the slow blocking move of :meth:`Robot.home`."""

    host: str = "192.168.1.10"
    control_hz: float = 60.0
    max_speed: float = 0.25
    max_yaw_rate: float = 1.5
    base_xyz: tuple[float, float, float] = (0.0, 0.0, 0.0)
    base_yaw: float = 0.0
    yaw_offset: float = 0.0
    home_speed: float = 0.08
    home_acc: float = 0.5

    def __post_init__(self) -> None:
        if self.control_hz <= 0 or self.max_speed <= 0 or self.max_yaw_rate <= 0:
            raise ValueError("control_hz, max_speed and max_yaw_rate must be positive")
        if any(lo >= hi for lo, hi in zip(self.workspace_min, self.workspace_max)):
            raise ValueError("workspace_min must be below workspace_max on every axis")


class StreamingArm(Robot):
    """A Cartesian set-point streamed every tick through a vendor SDK (see the module docstring).

    Over 20 methods, one job: it is the template every streamed adapter fills in. Eleven are the SDK hooks
    (``_open`` ... ``_health``) that the vendor modules implement; the rest are the Robot interface and its
    lifecycle, written once here so that units, clipping and fault handling cannot differ between vendors."""

    vendor = "arm"
    real_time = True  # a real arm keeps moving between commands: the safety layer's watchdog guards it
    config: StreamingConfig

    def __init__(self, config: StreamingConfig, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        """No I/O: :meth:`connect` does it."""
        self.config = config
        self.frame = BaseFrame(tuple(config.base_xyz), config.base_yaw)  # type: ignore[arg-type]
        self._clock = clock
        self.pacer = Pacer(config.control_hz, clock, sleep)
        self.fault: Optional[str] = None
        self._connected = False
        self._t0 = clock()
        self._target: tuple[float, float, float] = (0.0, 0.0, 0.0)
        self._target_yaw = 0.0
        self._tilt_msg: Optional[str] = None
        self._grip = (config.gripper_max_width, 0.0)

    # --- SDK hooks (arm frame: metres, and the arm yaw in radians) ----------------------------------------------
    @abstractmethod
    def _open(self) -> None:
        """Import the SDK (RobotError with :data:`INSTALL_HINT` when missing) and connect."""

    @abstractmethod
    def _close(self) -> None:
        """Stop streaming and release the SDK connection (best effort, never raises)."""

    @abstractmethod
    def _read_pose(self) -> tuple[tuple[float, float, float], Matrix]:
        """Measured TCP position (m) and rotation in the arm's base frame."""

    def _read_joints(self) -> tuple[float, ...]:
        return ()

    def _read_force(self) -> Optional[float]:
        return None

    def _read_gripper(self) -> Optional[float]:
        """Measured finger opening (m), or None (the last command is reported)."""
        return None

    @abstractmethod
    def _send_pose(self, position: tuple[float, float, float], arm_yaw: float) -> None:
        """Stream one gripper-down set-point (arm frame, m / rad)."""

    @abstractmethod
    def _move_home(self, position: tuple[float, float, float], arm_yaw: float) -> None:
        """Slow blocking move to a gripper-down pose (``home_speed``, ``home_acc``)."""

    @abstractmethod
    def _send_gripper(self, width: float, force: float, closing: bool) -> None:
        """Start moving the fingers to ``width`` (m) with ``force`` (N); do not wait."""

    @abstractmethod
    def _stop_motion(self) -> None:
        """The vendor's stop: decelerate and hold."""

    def _health(self) -> Optional[str]:
        """A reason the arm cannot move now (protective stop, lost link), read once per tick; None when fine."""
        return None

    # --- plumbing ----------------------------------------------------------------------------------------------
    def _sdk(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``fn``; an exception or a ``False`` reply latches the fault, stops the arm and raises RobotError."""
        try:
            out = fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - any SDK failure becomes our error, at the boundary
            self._fail(f"{self.vendor} {what} failed: {type(e).__name__}: {e}")
        if out is False:
            self._fail(f"{self.vendor} {what} was refused by the controller")
        return out

    def _fail(self, msg: str) -> None:
        self.fault = msg
        logger.warning("%s; stopping the arm", msg)
        try:
            self._stop_motion()
        except Exception:  # noqa: BLE001 - the link may be gone; the controller then stops by itself
            pass
        raise RobotError(msg + "; the arm was told to stop; call recover() once the cause is fixed")

    def _require_ready(self) -> None:
        self.require_connected()
        if self.fault:
            raise RobotError(f"the {self.vendor} driver is faulted ({self.fault}); nothing was sent; call recover() first")

    def _sync_setpoint(self) -> None:
        pos, R = self._sdk("reading the pose", self._read_pose)
        self._target = self.frame.from_arm(pos)
        self._target_yaw = wrap_half_turn(finger_yaw(R) + self.frame.yaw - self.config.yaw_offset)
        self._tilt_msg = None
        if tool_down_cos(R) < math.cos(math.radians(DOWN_TOLERANCE_DEG)):
            self._tilt_msg = f"the {self.vendor} gripper is not pointing down; call home() first so that servo does not snap the wrist"

    def _arm_yaw(self, yaw: float) -> float:
        return yaw - self.frame.yaw + self.config.yaw_offset

    # --- lifecycle ---------------------------------------------------------------------------------------------
    @property
    def is_connected(self) -> bool:
        return self._connected

    def connect(self) -> None:
        """Open the SDK connection and take the measured pose as the set-point; RobotError when it fails."""
        if self._connected:
            return
        self.fault = None
        self._open()
        self._t0 = self._clock()
        self.pacer.reset()
        self._sync_setpoint()
        self._connected = True
        logger.info("%s at %s connected", self.vendor, self.config.host)

    def disconnect(self) -> None:
        """Stop streaming and disconnect; a second call does nothing."""
        if not self._connected:
            return
        self._connected = False
        self._close()

    def recover(self) -> None:
        """Forget the latched fault and take the measured pose as the set-point (fix the cause first)."""
        self.require_connected()
        self.fault = None
        self._sync_setpoint()

    # --- Robot interface ---------------------------------------------------------------------------------------
    def state(self) -> RobotState:
        """Measured TCP pose (our frame, m / rad), opening (m), joints (rad), external force (N), time (s)."""
        self.require_connected()
        pos, R = self._sdk("reading the pose", self._read_pose)
        width = self._sdk("reading the gripper", self._read_gripper)
        return RobotState(tcp_position=self.frame.from_arm(pos),
                          tcp_yaw=wrap_half_turn(finger_yaw(R) + self.frame.yaw - self.config.yaw_offset),
                          gripper_width=self._grip[0] if width is None else float(width),
                          joints=tuple(self._sdk("reading the joints", self._read_joints)),
                          time_s=self._clock() - self._t0, tcp_force=self._sdk("reading the force", self._read_force),
                          gripper_measured=width is not None)

    def servo(self, position: Sequence[float], yaw: float) -> ServoCommand:
        """Clip to the workspace, ``max_speed / control_hz`` and ``max_yaw_rate / control_hz``, then stream."""
        self._require_ready()
        if self._tilt_msg:
            raise RobotError(self._tilt_msg)
        cfg = self.config
        try:
            pos, y_goal, clipped = limit_setpoint(position, yaw, self._target, self._target_yaw, cfg.workspace_min,
                                                  cfg.workspace_max, cfg.max_speed / cfg.control_hz,
                                                  cfg.max_yaw_rate / cfg.control_hz)
        except ValueError as e:
            raise RobotError(str(e)) from None
        self._sdk("servo", self._send_pose, self.frame.to_arm(pos), self._arm_yaw(y_goal))
        self._target = (pos[0], pos[1], pos[2])
        self._target_yaw = y_goal
        return ServoCommand(tcp_position=self._target, tcp_yaw=wrap_half_turn(y_goal), clipped=clipped)

    def set_gripper(self, width: float, force: float) -> None:
        """Start moving the fingers to ``width`` (m, clipped to [0, gripper_max_width]) with at most ``force``
        (N, clipped to [0, gripper_max_force]); closing when narrower than the last command."""
        self._require_ready()
        if not (math.isfinite(width) and math.isfinite(force)):
            raise RobotError(f"gripper needs a finite width (m) and force (N), got {width!r}, {force!r}")
        w = min(max(float(width), 0.0), self.config.gripper_max_width)
        f = min(max(float(force), 0.0), self.config.gripper_max_force)
        self._sdk("gripper", self._send_gripper, w, f, w < self._grip[0])
        self._grip = (w, f)

    def tick(self, n: int = 1) -> None:
        """Wait ``n`` control periods in real time; RobotError (and a stop) when the arm reports a problem."""
        self._require_ready()
        for _ in range(max(0, int(n))):
            self.pacer.wait()
            problem = self._sdk("reading the status", self._health)
            if problem:
                self._fail(f"{self.vendor}: {problem}")

    def hold(self) -> None:
        """Stop where the arm is: the vendor stop, then the measured pose becomes the set-point."""
        self.require_connected()
        self._sdk("stop", self._stop_motion)
        self._sync_setpoint()
        self.pacer.reset()

    def stop(self) -> None:
        """Immediate stop: same as :meth:`hold` on a streamed arm."""
        self.hold()

    def home(self) -> None:
        """Slow blocking move to ``config.home_tcp`` (gripper down, yaw 0), then open the gripper."""
        self._require_ready()
        cfg = self.config
        self._sdk("home", self._move_home, self.frame.to_arm(cfg.home_tcp), self._arm_yaw(0.0))
        self._sync_setpoint()
        self.pacer.reset()
        self.set_gripper(cfg.gripper_max_width, cfg.gripper_max_force / 5)

    @property
    def setpoint(self) -> tuple[tuple[float, float, float], float]:
        """Last commanded TCP set-point (m, our frame) and yaw (rad)."""
        return self._target, self._target_yaw


__all__ = ["StreamingArm", "StreamingConfig", "INSTALL_HINT"]
