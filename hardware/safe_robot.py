""":class:`SafeRobot`: any :class:`hardware.base.Robot` behind the safety layer of :mod:`hardware.safety`.

``SafeRobot(robot, limits)`` is itself a Robot, so skills, the session and the CLI drive it unchanged::

    with SafeRobot(make_robot("xarm", ip=...), SafetyLimits(max_speed=0.25, keep_out=(...,))) as arm:
        run_skill(call, arm, world)

Every set-point goes through :class:`hardware.safety.MotionLimiter` before the wrapped robot sees it; a
refused one raises :class:`hardware.safety.SafetyError` and sends nothing. Calls into the wrapped robot are
serialised by a lock, so the watchdog thread and a stop from another thread never interleave with a tick.

The teaching session wraps every robot it is given with :func:`ensure_safe` (the simulated arm included), so
no session drives an arm around the layer. Without a robot config file the limits are
:func:`default_limits` of the robot's own config; ``robocorrect robot limits [--config FILE]`` prints them.
"""
from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from typing import Any, Optional, Sequence

from hardware.base import Robot, RobotConfig, RobotState, ServoCommand
from hardware.safety import Motion, MotionLimiter, SafetyError, SafetyLimits, Watchdog

logger = logging.getLogger(__name__)
WARN_EVERY_S = 2.0  # s between two warnings about the same limit
WATCHDOG_S = 0.5  # s without set-points, while a real-time arm moves, before the default limits stop it
MOVED_ELSEWHERE_M = 1e-6  # m: the wrapped robot's set-point differs from the last one sent: something else moved it


def default_limits(config: RobotConfig, real_time: bool = False) -> SafetyLimits:
    """The limits a robot gets when no robot config file sets them, from its own ``config``: the workspace box
    (m, base frame) with the table plane at z = 0; ``config.max_speed`` (m/s) per axis, i.e. a TCP speed limit of
    ``sqrt(3) * max_speed`` (the driver itself caps the TCP speed at ``max_speed``); ``config.max_acceleration``
    (m/s^2) and ``config.max_yaw_rate`` (rad/s); the grip force capped at ``config.gripper_max_force`` (N); and,
    for a ``real_time`` arm, a watchdog of :data:`WATCHDOG_S` (a simulated arm waits for its next command)."""
    return SafetyLimits(workspace_min=tuple(config.workspace_min), workspace_max=tuple(config.workspace_max),  # type: ignore[arg-type]
                        table_z=0.0, table_clearance=0.0, max_speed=config.max_speed * math.sqrt(3.0),
                        max_acceleration=config.max_acceleration, max_yaw_rate=config.max_yaw_rate,
                        max_grip_force=config.gripper_max_force, watchdog_s=WATCHDOG_S if real_time else 0.0)


def describe_limits(limits: SafetyLimits) -> dict[str, Any]:
    """``limits`` as a JSON-able dict with the unit in every key (for ``robot limits`` and logs)."""
    return {"workspace_min_m": list(limits.workspace_min), "workspace_max_m": list(limits.workspace_max),
            "box_min_m": list(limits.box_min), "table_z_m": limits.table_z, "table_clearance_m": limits.table_clearance,
            "keep_out": [{"name": z.name, "min_m": list(z.min), "max_m": list(z.max)} for z in limits.keep_out],
            "max_speed_m_s": round(limits.max_speed, 4), "max_speed_per_axis_m_s": round(limits.max_speed / math.sqrt(3.0), 4),
            "max_acceleration_m_s2": limits.max_acceleration, "max_yaw_rate_rad_s": limits.max_yaw_rate,
            "max_force_n": limits.max_force, "max_grip_force_n": limits.max_grip_force,
            "joint_lower_rad": list(limits.joint_lower), "joint_upper_rad": list(limits.joint_upper),
            "joint_margin_rad": limits.joint_margin, "watchdog_s": limits.watchdog_s}


class SafeRobot(Robot):
    """Wraps ``robot``; enforces ``limits`` (units in :class:`hardware.safety.SafetyLimits`). ``config`` is the
    wrapped robot's with ``max_speed`` and ``nominal_speed`` lowered to the layer's per-axis speed limit, so that
    skills plan motions the layer does not have to cut. Counters: ``watchdog.fired`` (watchdog stops), ``refused``
    (commands refused), ``cut`` (set-points a limit changed)."""

    def __init__(self, robot: Robot, limits: SafetyLimits | None = None) -> None:
        """``limits`` default: :func:`default_limits` of ``robot.config`` (watchdog on for a real-time arm)."""
        self.robot = robot
        self.limits = limits or default_limits(robot.config, robot.real_time)
        self.real_time = robot.real_time
        self.limiter = MotionLimiter(self.limits, robot.control_dt)
        # skills plan their lines from config.max_speed / nominal_speed: plan within what the layer lets through
        v = self.limiter.v_axis
        self.config = dataclasses.replace(robot.config, max_speed=min(robot.config.max_speed, v),
                                          nominal_speed=min(robot.config.nominal_speed, v))
        self.watchdog = Watchdog(self.limits.watchdog_s, self._watchdog_stop)
        self.fault: str | None = None
        self.refused = 0
        self.cut = 0  # set-points a limit cut (sent changed)
        self._lock = threading.RLock()
        self._motion: Motion | None = None
        self._sent: Optional[tuple[float, float, float]] = None  # what the wrapped robot reported sending last
        self._warned: dict[str, float] = {}  # limit -> monotonic time of its last warning

    # --- lifecycle ------------------------------------------------------------------------------------------
    @property
    def is_connected(self) -> bool:
        return self.robot.is_connected

    def connect(self) -> None:
        """Connect the wrapped robot, take its measured pose as the set-point and start the watchdog."""
        with self._lock:
            self.robot.connect()
            self._sync()
        self.watchdog.start()

    def disconnect(self) -> None:
        """Stop the watchdog and disconnect the wrapped robot; a second call does nothing."""
        self.watchdog.close()
        with self._lock:
            self.robot.disconnect()

    # --- helpers --------------------------------------------------------------------------------------------
    def _sync(self) -> None:
        """The measured pose becomes the set-point, at rest."""
        st = self.robot.state()
        self._motion = Motion(tuple(st.tcp_position), (0.0, 0.0, 0.0), st.tcp_yaw)  # type: ignore[arg-type]
        self._sent = None
        self.watchdog.kick(moving=False)

    def _moved_elsewhere(self) -> bool:
        """Whether the wrapped robot's set-point is no longer the one this layer sent (a world reset, a homing
        done around the layer): then the measured pose, at rest, is where limiting starts again."""
        if self._sent is None:
            return False
        sp = self.robot.setpoint
        return sp is not None and any(abs(a - b) > MOVED_ELSEWHERE_M for a, b in zip(sp[0], self._sent))

    def _watchdog_stop(self) -> bool:
        with self._lock:
            if self.watchdog.silent_s() <= self.limits.watchdog_s or not self._moving():
                return False  # a command arrived while we waited for the lock
            logger.warning("watchdog: no set-point for %.2f s while moving; stopping the arm", self.limits.watchdog_s)
            self.robot.stop()
            self._sync()
            return True

    def _require_ok(self) -> None:
        self.robot.require_connected()
        if self.fault:
            raise SafetyError(f"{self.fault}; nothing was sent; call clear_fault() once the arm is clear")

    def _trip(self, msg: str) -> None:
        """Stop the arm, latch ``msg`` as the fault and raise it."""
        logger.error("safety stop: %s", msg)
        self.robot.stop()
        self._sync()
        self.fault = msg
        raise SafetyError(msg + "; the arm was stopped")

    # --- Robot interface ------------------------------------------------------------------------------------
    def state(self) -> RobotState:
        with self._lock:
            return self.robot.state()

    def servo(self, position: Sequence[float], yaw: float) -> ServoCommand:
        """Limit the set-point (base frame, m / rad) and send it; :class:`SafetyError` for a refused one.
        The returned command lists in ``limits`` every limit that cut it (a warning names each limit at most
        once every ``WARN_EVERY_S`` seconds)."""
        with self._lock:
            self._require_ok()
            try:
                self.limiter.check_target(position, yaw)
            except SafetyError:
                self.refused += 1
                raise
            if self._motion is None or self._moved_elsewhere():
                self._sync()
            assert self._motion is not None
            step = self.limiter.step(self._motion, position, yaw)
            self.cut += bool(step.limits)
            now = time.monotonic()
            fresh = [c for c in step.limits if now - self._warned.get(c, -math.inf) > WARN_EVERY_S]
            if fresh:  # each limit is named at most once per WARN_EVERY_S; the returned command always names them
                # the acceleration limit alone only smooths the start of a move (mm): a note, not a warning
                (logger.info if set(step.limits) <= {"acceleration"} else logger.warning)("set-point (%s) cut by: %s", ", ".join(f"{float(v):.3f}" for v in position), ", ".join(step.limits))
                self._warned.update({c: now for c in step.limits})
            sent = self.robot.servo(step.position, step.yaw)
            self._motion = Motion(step.position, step.velocity, step.yaw)
            self._sent = tuple(sent.tcp_position)  # type: ignore[assignment]
            self.watchdog.kick(moving=any(abs(v) > 1e-6 for v in step.velocity))
            return ServoCommand(tcp_position=step.position, tcp_yaw=sent.tcp_yaw, joint_targets=sent.joint_targets,
                                clipped=bool(step.limits) or sent.clipped, limits=step.limits)

    def set_gripper(self, width: float, force: float) -> None:
        """Refuse non-finite values; clip ``force`` (N) to ``max_grip_force``."""
        with self._lock:
            self._require_ok()
            if not (math.isfinite(width) and math.isfinite(force)):
                self.refused += 1
                raise SafetyError(f"refused: the gripper needs a finite width (m) and force (N), got {width!r}, {force!r}")
            cap = self.limits.max_grip_force
            if cap is not None and force > cap:
                logger.warning("grip force %.1f N clipped to the limit %.1f N", force, cap)
                force = cap
            self.robot.set_gripper(width, force)

    def tick(self, n: int = 1) -> None:
        """Advance ``n`` ticks, then check the contact force and joint margins (where the arm reports them)."""
        with self._lock:
            self._require_ok()
            self.watchdog.kick(moving=self._moving())
            self.robot.tick(n)
            self.watchdog.kick(moving=self._moving())
            if self.limits.max_force is None and not self.limits.joint_lower:
                return
            st = self.robot.state()
            if self.limits.max_force is not None and st.tcp_force is not None and st.tcp_force > self.limits.max_force:
                self._trip(f"force limit: {st.tcp_force:.1f} N at the TCP exceeds {self.limits.max_force:.1f} N")
            m = self.limits.joint_margin
            for i, (q, lo, hi) in enumerate(zip(st.joints, self.limits.joint_lower, self.limits.joint_upper)):
                if q < lo + m or q > hi - m:
                    self._trip(f"joint-limit margin: joint {i + 1} at {q:.3f} rad is within {m:.3f} rad of its limit "
                               f"[{lo:.3f}, {hi:.3f}]")

    def _moving(self) -> bool:
        return self._motion is not None and any(abs(v) > 1e-6 for v in self._motion.velocity)

    def home(self) -> None:
        with self._lock:
            self._require_ok()
            self.robot.home()
            self._sync()

    def hold(self) -> None:
        with self._lock:
            self.robot.hold()
            self._sync()

    def stop(self) -> None:
        """Immediate stop (the stop word): the wrapped robot's :meth:`Robot.stop` at once, then at rest where it is."""
        with self._lock:
            self.robot.stop()
            self._sync()

    @property
    def setpoint(self) -> Optional[tuple[tuple[float, float, float], float]]:
        """The wrapped robot's last commanded set-point (m, rad)."""
        return self.robot.setpoint

    def describe(self) -> dict[str, Any]:
        """The limits in use (:func:`describe_limits`), the wrapped robot's class and the layer's counters."""
        return {"robot": type(self.robot).__name__, **describe_limits(self.limits), "refused": self.refused,
                "cut_setpoints": self.cut, "watchdog_stops": self.watchdog.fired, "fault": self.fault}

    def clear_fault(self) -> None:
        """Forget a latched force / joint-limit fault (after the cause is fixed); the measured pose is the set-point."""
        with self._lock:
            self.fault = None
            self._sync()


def ensure_safe(robot: Robot, limits: SafetyLimits | None = None) -> SafeRobot:
    """``robot`` behind the safety layer: itself when it is a :class:`SafeRobot` already (``limits`` must then
    be None or the same), else ``SafeRobot(robot, limits)`` (default :func:`default_limits`), connected (its
    set-point taken, its watchdog started) when ``robot`` is connected already."""
    if isinstance(robot, SafeRobot):
        if limits is not None and limits != robot.limits:
            raise SafetyError("this robot is behind the safety layer already, with other limits; pass it unwrapped")
        return robot
    safe = SafeRobot(robot, limits)
    if robot.is_connected:
        safe.connect()
    return safe


__all__ = ["SafeRobot", "ensure_safe", "default_limits", "describe_limits", "WATCHDOG_S"]
