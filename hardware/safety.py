"""A safety layer that wraps any :class:`hardware.base.Robot` (the simulated one included): every command
passes it before it reaches the arm.

What it enforces (robot base frame, x forward, y left, z up; m, m/s, m/s^2, rad, N, s):

- **Non-finite rejection**: a NaN / inf position, yaw, width or force is refused; nothing is sent.
- **Keep-out zones**: a set-point inside a zone is refused (:class:`SafetyError` naming the zone) and the arm
  does not move. A motion that would run into a zone brakes and stops in front of it.
- **Workspace box and table plane**: set-points are clipped into the box, whose floor is raised to
  ``table_z + table_clearance``; a warning names the limit.
- **Cartesian speed and acceleration**: each axis is limited to ``max_speed / sqrt(3)`` and
  ``max_acceleration / sqrt(3)``, so the TCP speed never exceeds ``max_speed`` and the change of velocity per
  tick never exceeds ``max_acceleration * dt``. Each axis also keeps a speed from which it can brake to rest
  (at that acceleration, in whole ticks) before a wall, and the whole stopping box (the axis-aligned box
  swept while braking) must stay clear of every keep-out zone; otherwise the layer brakes. Braking
  retraces the stopping box planned one tick earlier, which was clear, so no sequence of commands leaves
  the box or enters a zone (``tests/hardware/test_safety.py`` checks this with hypothesis).
- **Yaw rate**: the gripper's yaw moves at most ``max_yaw_rate * dt`` per tick.
- **Grip force** clipped to ``max_grip_force``; **contact force** (``RobotState.tcp_force``) above
  ``max_force`` and **joint-limit margins** (``joint_lower`` / ``joint_upper`` minus ``joint_margin``, where
  joints are known) stop the arm and latch a fault until :meth:`SafeRobot.clear_fault`.
- **Watchdog**: when set-points stop coming for ``watchdog_s`` while the arm moves, a background thread
  brings it to a controlled stop (:meth:`Robot.stop`) and takes the measured pose as the new set-point.
- **Immediate stop**: :meth:`SafeRobot.stop` (the stop word) stops the arm at once.

The limiter is pure arithmetic (:class:`MotionLimiter`); :class:`hardware.safe_robot.SafeRobot` applies it
to a robot.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

from hardware.base import RobotError

logger = logging.getLogger(__name__)
Vec3 = tuple[float, float, float]
_EPS = 1e-9


class SafetyError(RobotError):
    """The safety layer refused a command or stopped the arm; the message names the limit."""


@dataclass(frozen=True)
class KeepOut:
    """An axis-aligned box (base frame, m) the TCP must never enter."""

    name: str
    min: Vec3
    max: Vec3

    def contains(self, p: Sequence[float]) -> bool:
        return all(lo - _EPS <= v <= hi + _EPS for v, lo, hi in zip(p, self.min, self.max))

    def overlaps(self, lo: Sequence[float], hi: Sequence[float]) -> bool:
        """Whether the closed box [lo, hi] meets this zone."""
        return all(a <= zmax + _EPS and b >= zmin - _EPS for a, b, zmin, zmax in zip(lo, hi, self.min, self.max))


@dataclass
class SafetyLimits:
    """Every limit the layer enforces. Units: m, m/s, m/s^2, rad, rad/s, N, s (base frame)."""

    workspace_min: Vec3 = (0.2, -0.45, 0.0)  # m, TCP box lower corner
    workspace_max: Vec3 = (0.8, 0.45, 0.55)  # m, TCP box upper corner
    table_z: float = 0.0  # m, height of the table plane in the base frame
    table_clearance: float = 0.0  # m, the TCP stays this far above the table plane
    keep_out: tuple[KeepOut, ...] = ()
    max_speed: float = 1.0  # m/s, TCP speed (each axis gets max_speed / sqrt(3))
    max_acceleration: float = 10.0  # m/s^2, TCP acceleration (each axis gets max_acceleration / sqrt(3))
    max_yaw_rate: float = 3.0  # rad/s
    max_force: Optional[float] = None  # N, contact force at the TCP that stops the arm (where measured)
    max_grip_force: Optional[float] = None  # N, grip force cap (None: the robot's own)
    joint_lower: tuple[float, ...] = ()  # rad, joint limits where known
    joint_upper: tuple[float, ...] = ()
    joint_margin: float = 0.05  # rad kept from each joint limit
    watchdog_s: float = 0.5  # s without set-points, while moving, before a controlled stop (0: off)

    def __post_init__(self) -> None:
        if any(lo >= hi for lo, hi in zip(self.box_min, self.workspace_max)):
            raise SafetyError("safety limits: the workspace box (above the table plane) is empty")
        if self.max_speed <= 0 or self.max_acceleration <= 0 or self.max_yaw_rate <= 0:
            raise SafetyError("safety limits: max_speed, max_acceleration and max_yaw_rate must be positive")
        if len(self.joint_lower) != len(self.joint_upper):
            raise SafetyError("safety limits: joint_lower and joint_upper need one value per joint")

    @property
    def box_min(self) -> Vec3:
        """Lower corner of the allowed box: the workspace floor raised to the table plane plus clearance (m)."""
        x, y, z = self.workspace_min
        return (x, y, max(z, self.table_z + self.table_clearance))


def stopping_distance(v: float, a: float, dt: float) -> float:
    """Distance (m) covered while braking from speed ``v`` (m/s, >= 0) at ``a`` (m/s^2) in ticks of ``dt`` (s):
    ``dt * (v + (v - a dt) + ...)`` over the positive terms, the current tick included."""
    if v <= 0:
        return 0.0
    k = v / (a * dt)
    n = math.floor(k)
    return a * dt * dt * ((n + 1) * (k - n) + n * (n + 1) / 2)


def braking_speed(d: float, a: float, dt: float) -> float:
    """The highest speed (m/s) from which braking at ``a`` in ticks of ``dt`` covers at most ``d`` (m): the
    inverse of :func:`stopping_distance` (exact, so a motion that keeps to it never overshoots)."""
    if d <= 0:
        return 0.0
    u = a * dt * dt
    x = d / u
    n = math.floor((-1.0 + math.sqrt(1.0 + 8.0 * x)) / 2.0)
    f = min((x - n * (n + 1) / 2.0) / (n + 1), 1.0)
    return max(0.0, (n + f) * a * dt)


@dataclass
class Motion:
    """The limiter's state: last set-point position (m), per-axis velocity (m/s) and yaw (rad)."""

    position: Vec3
    velocity: Vec3 = (0.0, 0.0, 0.0)
    yaw: float = 0.0


@dataclass
class Step:
    """One limited set-point: where to send the TCP, and which limits cut the request (empty: none)."""

    position: Vec3
    yaw: float
    velocity: Vec3
    limits: tuple[str, ...] = field(default_factory=tuple)


class MotionLimiter:
    """Turns requested set-points into ones that respect :class:`SafetyLimits` (see the module docstring)."""

    def __init__(self, limits: SafetyLimits, dt: float) -> None:
        self.limits = limits
        self.dt = dt
        self.v_axis = limits.max_speed / math.sqrt(3.0)
        self.a_axis = limits.max_acceleration / math.sqrt(3.0)

    def check_target(self, position: Sequence[float], yaw: float) -> None:
        """Refuse (SafetyError) a non-finite set-point or one inside a keep-out zone; nothing moves."""
        if len(position) != 3 or not all(math.isfinite(float(v)) for v in position) or not math.isfinite(float(yaw)):
            raise SafetyError(f"refused: a set-point must be a finite [x, y, z] (m) and yaw (rad), got {position!r}, {yaw!r}")
        for z in self.limits.keep_out:
            if z.contains(position):
                raise SafetyError(f"refused: ({', '.join(f'{v:.3f}' for v in position)}) m is inside the keep-out zone "
                                  f"{z.name!r}; the arm did not move")

    def _stop_box(self, p: Sequence[float], v: Sequence[float]) -> tuple[list[float], list[float]]:
        ends = [pi + math.copysign(stopping_distance(abs(vi), self.a_axis, self.dt), vi) for pi, vi in zip(p, v)]
        return [min(a, b) for a, b in zip(p, ends)], [max(a, b) for a, b in zip(p, ends)]

    def _clear(self, lo: Sequence[float], hi: Sequence[float]) -> Optional[str]:
        for z in self.limits.keep_out:
            if z.overlaps(lo, hi):
                return z.name
        return None

    def step(self, m: Motion, position: Sequence[float], yaw: float) -> Step:
        """The next set-point from state ``m`` toward the requested ``position`` (m) / ``yaw`` (rad); call
        :meth:`check_target` first. Does not change ``m``; :class:`SafeRobot` stores the result."""
        lim, dt, a = self.limits, self.dt, self.a_axis
        lo_box, hi_box = lim.box_min, lim.workspace_max
        cut: list[str] = []
        target = []
        for i, (v, lo, hi) in enumerate(zip(position, lo_box, hi_box)):
            c = min(max(float(v), lo), hi)
            if abs(c - float(v)) > _EPS:
                cut.append("table plane" if i == 2 and c == lo and lim.table_z + lim.table_clearance >= lim.workspace_min[2]
                           else f"workspace {'xyz'[i]}")
            target.append(c)
        new_v = []
        for i in range(3):
            p, v = m.position[i], m.velocity[i]
            d = target[i] - p
            goal = math.copysign(min(self.v_axis, braking_speed(abs(d), a, dt)), d)
            if abs(goal - v) > a * dt + _EPS:
                cut.append("acceleration")
            w = min(max(goal, v - a * dt), v + a * dt)
            w = min(max(w, -braking_speed(p - lo_box[i], a, dt)), braking_speed(hi_box[i] - p, a, dt))
            if abs(w) > self.v_axis:
                w = math.copysign(self.v_axis, w)
            if abs(goal) + _EPS < abs(d) / dt and abs(goal) >= self.v_axis - _EPS:
                cut.append("speed")
            new_v.append(w)
        p_new = [p + w * dt for p, w in zip(m.position, new_v)]
        lo, hi = self._stop_box(p_new, new_v)
        lo = [min(x, y) for x, y in zip(lo, m.position)]
        hi = [max(x, y) for x, y in zip(hi, m.position)]
        zone = self._clear(lo, hi)
        if zone is not None:  # brake: retrace the stopping box planned one tick ago (it was clear)
            cut.append(f"keep-out zone {zone!r}")
            new_v = [math.copysign(max(abs(v) - a * dt, 0.0), v) for v in m.velocity]
            p_new = [p + w * dt for p, w in zip(m.position, new_v)]
        p_new = [min(max(v, lo_), hi_) if lo_ <= p <= hi_ else v for v, lo_, hi_, p in zip(p_new, lo_box, hi_box, m.position)]
        new_v = [(b - a_) / dt for a_, b in zip(m.position, p_new)]  # float-exact with what is sent
        dyaw = math.remainder(float(yaw) - m.yaw, math.pi)
        max_dyaw = lim.max_yaw_rate * dt
        if abs(dyaw) > max_dyaw + _EPS:
            dyaw = math.copysign(max_dyaw, dyaw)
            cut.append("yaw rate")
        seen: list[str] = []
        for c in cut:
            if c not in seen:
                seen.append(c)
        return Step((p_new[0], p_new[1], p_new[2]), m.yaw + dyaw, (new_v[0], new_v[1], new_v[2]), tuple(seen))


class Watchdog:
    """Calls ``on_expire`` from a daemon thread when :meth:`kick` has not been called for ``timeout_s`` while
    :attr:`armed`; ``on_expire`` returns whether it stopped the arm (it re-checks :meth:`silent_s` under its own
    lock). :meth:`check` does one test (``now`` in the same clock), for tests and the thread."""

    def __init__(self, timeout_s: float, on_expire: Callable[[], bool], clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout_s = timeout_s
        self.on_expire = on_expire
        self.clock = clock
        self.armed = False
        self.fired = 0
        self._last = clock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def kick(self, moving: bool) -> None:
        """A command arrived; ``moving``: whether the arm is still under way (only then can the watchdog fire)."""
        self._last = self.clock()
        self.armed = moving

    def check(self, now: Optional[float] = None) -> bool:
        """Fire once if armed and silent for longer than ``timeout_s``; returns whether it fired."""
        now = self.clock() if now is None else now
        if self.armed and now - self._last > self.timeout_s and self.on_expire():
            self.armed = False
            self.fired += 1
            return True
        return False

    def silent_s(self) -> float:
        """Seconds since the last :meth:`kick`."""
        return self.clock() - self._last

    def start(self) -> None:
        if self._thread is not None or self.timeout_s <= 0:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="robocorrect-watchdog", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.timeout_s / 4):
            try:
                self.check()
            except Exception:  # noqa: BLE001 - the watchdog must survive a failing stop; it logs it
                logger.exception("watchdog stop failed")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        self._thread = None


__all__ = ["SafetyError", "SafetyLimits", "KeepOut", "MotionLimiter", "Motion", "Step", "Watchdog",
           "stopping_distance", "braking_speed"]
