""":class:`SafeRobot`: any :class:`hardware.base.Robot` behind the safety layer of :mod:`hardware.safety`.

``SafeRobot(robot, limits)`` is itself a Robot, so skills, the session and the CLI drive it unchanged::

    with SafeRobot(make_robot("xarm", ip=...), SafetyLimits(max_speed=0.25, keep_out=(...,))) as arm:
        run_skill(call, arm, world)

Every set-point goes through :class:`hardware.safety.MotionLimiter` before the wrapped robot sees it; a
refused one raises :class:`hardware.safety.SafetyError` and sends nothing. Calls into the wrapped robot are
serialised by a lock, so the watchdog thread and a stop from another thread never interleave with a tick.
"""
from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from typing import Sequence

from hardware.base import Robot, RobotState, ServoCommand
from hardware.safety import Motion, MotionLimiter, SafetyError, SafetyLimits, Watchdog

logger = logging.getLogger(__name__)
WARN_EVERY_S = 2.0  # s between two warnings about the same limit


class SafeRobot(Robot):
    """Wraps ``robot``; enforces ``limits`` (units in :class:`hardware.safety.SafetyLimits`). ``config`` is the
    wrapped robot's with ``max_speed`` and ``nominal_speed`` lowered to the layer's per-axis speed limit, so that
    skills plan motions the layer does not have to cut. Counters: ``watchdog.fired`` (watchdog stops), ``refused``."""

    def __init__(self, robot: Robot, limits: SafetyLimits | None = None) -> None:
        self.robot = robot
        self.limits = limits or SafetyLimits()
        self.limiter = MotionLimiter(self.limits, robot.control_dt)
        # skills plan their lines from config.max_speed / nominal_speed: plan within what the layer lets through
        v = self.limiter.v_axis
        self.config = dataclasses.replace(robot.config, max_speed=min(robot.config.max_speed, v),
                                          nominal_speed=min(robot.config.nominal_speed, v))
        self.watchdog = Watchdog(self.limits.watchdog_s, self._watchdog_stop)
        self.fault: str | None = None
        self.refused = 0
        self._lock = threading.RLock()
        self._motion: Motion | None = None
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
        self.watchdog.kick(moving=False)

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
            if self._motion is None:
                self._sync()
            assert self._motion is not None
            step = self.limiter.step(self._motion, position, yaw)
            now = time.monotonic()
            fresh = [c for c in step.limits if now - self._warned.get(c, -math.inf) > WARN_EVERY_S]
            if fresh:  # each limit is named at most once per WARN_EVERY_S; the returned command always names them
                logger.warning("set-point (%s) cut by: %s", ", ".join(f"{float(v):.3f}" for v in position), ", ".join(step.limits))
                self._warned.update({c: now for c in step.limits})
            sent = self.robot.servo(step.position, step.yaw)
            self._motion = Motion(step.position, step.velocity, step.yaw)
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

    def clear_fault(self) -> None:
        """Forget a latched force / joint-limit fault (after the cause is fixed); the measured pose is the set-point."""
        with self._lock:
            self.fault = None
            self._sync()


__all__ = ["SafeRobot"]
