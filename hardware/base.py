"""The robot-facing interfaces that skills drive: a :class:`Robot` (an arm with a parallel gripper,
commanded in Cartesian space one control tick at a time) and a :class:`World` (where named objects are).

Implementations: the simulated Panda in ``sim/`` and vendor arms in ``hardware/`` (the vendor SDK is
imported inside the implementation only). Skills never import an implementation; they receive one.

Frames and units (``shared/spec/corrections.md``): robot base frame, x forward, y left, z up; metres,
radians, seconds, newtons. The tool centre point (TCP) is between the fingertips; ``yaw`` is the
gripper's rotation about z, 0 with the fingers closing along the base y axis.

Control model: a skill calls :meth:`Robot.servo` with the next Cartesian set-point and then
:meth:`Robot.tick`, which advances time by ``control_dt`` (simulated physics, or waiting on the real
arm's control loop). Because every motion is a sequence of ticks, a skill can be stopped or re-aimed
between any two ticks; this is what online corrections use.

Lifecycle (as LeRobot's ``robots/robot.py``): constructing a robot does no I/O. :meth:`Robot.connect`
opens the connection, :attr:`Robot.is_connected` tells whether it is open, :meth:`Robot.disconnect`
(alias :meth:`Robot.close`) releases it and a second call does nothing; ``with robot:`` pairs the two.
Commands on a robot that is not connected raise :class:`RobotError` ("not connected: call connect()
first") and send nothing. The defaults suit an arm that is connected as soon as it exists (the
simulated Panda, which lives inside its world).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from hardware.errors import RobocorrectError


@dataclass
class RobotState:
    """Snapshot of the arm: TCP position (m), TCP yaw (rad), gripper opening (m), joint positions (rad), time (s),
    and the magnitude of the external force at the TCP (N) where the arm measures it (None otherwise).
    ``gripper_measured`` False: the gripper reports no opening (an open / closed tool output) and
    ``gripper_width`` is the last commanded width."""

    tcp_position: tuple[float, float, float]
    tcp_yaw: float
    gripper_width: float
    joints: tuple[float, ...] = ()
    time_s: float = 0.0
    tcp_force: float | None = None
    gripper_measured: bool = True


@dataclass
class ServoCommand:
    """What was actually sent to the arm on one tick (after clipping to the workspace and speed limits)."""

    tcp_position: tuple[float, float, float]
    tcp_yaw: float
    joint_targets: tuple[float, ...] = ()
    clipped: bool = False
    limits: tuple[str, ...] = ()  # names of the limits that cut this set-point (safety layer), e.g. ("workspace z",)


@dataclass
class RobotConfig:
    """Common settings of every robot; implementations subclass it for their own fields."""

    control_hz: float = 60.0
    nominal_speed: float = 0.25  # m/s of Cartesian speed at speed scale 1.0
    max_speed: float = 0.8  # m/s hard cap, whatever the speed scale
    max_acceleration: float = 13.0  # m/s^2 of TCP acceleration the safety layer allows (the Panda's documented Cartesian limit)
    max_yaw_rate: float = 3.0  # rad/s of gripper yaw the safety layer allows (drivers may cap it lower)
    workspace_min: tuple[float, float, float] = (0.2, -0.45, 0.0)
    workspace_max: tuple[float, float, float] = (0.8, 0.45, 0.55)
    gripper_max_width: float = 0.08
    gripper_max_force: float = 100.0
    home_tcp: tuple[float, float, float] = (0.35, 0.0, 0.35)  # TCP position at home (m, base frame)
    # Hand geometry (defaults: the Franka Panda hand); skills aim grasps and keep clearances with it.
    fingertip_below_tcp: float = 0.011  # the fingertips reach this far below the TCP (m)
    hand_half_width: float = 0.105  # the hand reaches this far from the TCP along the finger axis (m)
    hand_above_tcp: float = 0.035  # the hand's underside is this far above the TCP (m)


class RobotError(RobocorrectError, RuntimeError):
    """The robot refused or failed a command (not connected, out of workspace, driver error)."""


class Robot(ABC):
    """An arm with a parallel gripper, driven one control tick at a time.

    Every subclass sets ``config``. Lifecycle: see the module docstring; ``with robot: ...`` connects
    (when not connected yet) and disconnects on the way out, also on an error."""

    config: RobotConfig
    real_time: bool = False  # True: the arm moves on its own clock (a real arm), so the safety layer's watchdog guards it

    # --- lifecycle ----------------------------------------------------------------------------------------
    @property
    def is_connected(self) -> bool:
        """Whether commands reach the arm now. Default: True (connected as soon as it exists)."""
        return True

    def connect(self) -> None:  # noqa: B027 - optional hook
        """Open the connection to the arm (all I/O happens here, never in the constructor); a call on a
        connected robot does nothing. Raises :class:`RobotError` when the arm cannot be reached.
        Default: nothing to open."""

    def disconnect(self) -> None:  # noqa: B027 - optional hook
        """Stop streaming and release the connection; a second call does nothing. Default: nothing."""

    def close(self) -> None:
        """Same as :meth:`disconnect` (Gymnasium's name); a second call does nothing."""
        self.disconnect()

    def __enter__(self) -> "Robot":
        if not self.is_connected:
            self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.disconnect()

    def require_connected(self) -> None:
        """Raise :class:`RobotError` naming this robot unless :attr:`is_connected`; drivers call it first
        in every command, so nothing is sent to an arm that is not connected."""
        if not self.is_connected:
            raise RobotError(f"{type(self).__name__} is not connected: call connect() first")

    def stop(self) -> None:
        """Immediate stop (the stop word, the safety layer, a lost connection): bring the arm to rest as
        fast as the vendor's stop allows and keep it there. Default: :meth:`hold`."""
        self.hold()

    # --- commands -----------------------------------------------------------------------------------------

    @property
    def control_dt(self) -> float:
        """Seconds per control tick."""
        return 1.0 / self.config.control_hz

    @abstractmethod
    def state(self) -> RobotState:
        """Current state, read from the arm."""

    @abstractmethod
    def servo(self, position: Sequence[float], yaw: float) -> ServoCommand:
        """Set the TCP set-point for the next tick (base frame, m / rad); returns what was actually sent."""

    @abstractmethod
    def set_gripper(self, width: float, force: float) -> None:
        """Start moving the fingers to ``width`` (m) with at most ``force`` (N) of grip; progresses with ticks."""

    @abstractmethod
    def tick(self, n: int = 1) -> None:
        """Advance ``n`` control ticks (``n * control_dt`` seconds)."""

    @abstractmethod
    def home(self) -> None:
        """Move to the home configuration at once (simulation) or with a safe slow motion (real arm)."""

    @property
    def setpoint(self) -> Optional[tuple[tuple[float, float, float], float]]:
        """Last commanded TCP set-point (m, base frame) and yaw (rad); the safety layer compares it with what it
        sent to notice that something else moved the arm (a world reset, a homing). Default: None (not kept)."""
        return None

    def hold(self) -> None:
        """Keep the arm where it is now: make the current measured pose the set-point.

        Called when a skill is stopped mid-motion. Default: servo to the current state once."""
        st = self.state()
        self.servo(st.tcp_position, st.tcp_yaw)


class World(ABC):
    """Where the named objects are: ground truth in simulation, perception on a real arm."""

    @abstractmethod
    def names(self) -> list[str]:
        """Names of the objects present."""

    @abstractmethod
    def pose(self, name: str) -> tuple[tuple[float, float, float], float]:
        """Centre position (m, base frame) and yaw (rad) of object ``name``."""

    @abstractmethod
    def dims(self, name: str) -> tuple[float, float, float]:
        """Bounding-box extents (m) of object ``name`` along its own x, y, z."""

    @abstractmethod
    def kind(self, name: str) -> str:
        """'block', 'bowl', 'tray', ..."""

    def held(self) -> str | None:
        """Name of the object between the fingers and lifted off its support, if known. Default: None."""
        return None

    def top_z(self, name: str) -> float:
        """Height (m, base frame) of object ``name``'s top. Default: centre z plus half its height."""
        return self.pose(name)[0][2] + self.dims(name)[2] / 2

    def grasped(self) -> str | None:
        """Name of the block between the fingers, lifted or not. Default: :meth:`held`."""
        return self.held()

    def tilt(self, name: str) -> float:
        """Angle (rad) of object ``name``'s up axis from vertical. Default: 0 (upright; no way to tell)."""
        return 0.0

    def is_in(self, a: str, b: str) -> bool:
        """Whether object ``a`` rests inside container ``b`` (not held). Default: centre of ``a`` within
        ``b``'s footprint (half its x/y extents) and ``a`` not held."""
        if a == b or self.held() == a:
            return False
        (ax, ay, _), _ = self.pose(a)
        (bx, by, _), _ = self.pose(b)
        dx, dy, _ = self.dims(b)
        return abs(ax - bx) <= dx / 2 and abs(ay - by) <= dy / 2

    def is_on(self, a: str, b: str) -> bool:
        """Whether object ``a`` rests on ``b`` (an object, or ``"table"``), not held. Default: for
        ``"table"``, ``a`` is not held and its bottom is within 1 cm of z = 0; for an object, ``a``'s centre
        is over ``b``'s footprint and ``a``'s bottom within 1 cm of ``b``'s top."""
        if a == b or self.held() == a:
            return False
        (ax, ay, az), _ = self.pose(a)
        bottom = az - self.dims(a)[2] / 2
        if b == "table":
            return bottom < 0.01
        (bx, by, bz), _ = self.pose(b)
        dx, dy, dz = self.dims(b)
        return abs(ax - bx) <= dx / 2 and abs(ay - by) <= dy / 2 and abs(bottom - (bz + dz / 2)) < 0.01

    def render(self, camera: str = "scene", width: int | None = None, height: int | None = None) -> dict[str, Any] | None:
        """Pixels from ``camera``: ``{"rgb": (H, W, 3) uint8, ...}`` (``depth`` in m and ``seg`` where known).
        Default: None (this world has no camera); callers then record no frames."""
        return None

    def object_crop(self, name: str, size: int = 64, margin: float = 0.25, width: int = 320, height: int = 240,
                    frame: dict[str, Any] | None = None) -> Any | None:
        """RGB crop (``size`` x ``size`` x 3 uint8) of object ``name`` as the scene camera sees it, from
        ``frame`` (a :meth:`render` result) when given. Default: None (no camera)."""
        return None
