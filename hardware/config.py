"""The robot config file: one TOML file describes a real (or simulated) arm, its safety limits and its camera.

Example (every key optional except ``driver``; units: m, m/s, m/s^2, rad, rad/s, N, s; our table frame,
x forward, y left, z up, table top at z = 0)::

    driver = "ur"                 # "xarm", "ur", "franka" or "sim"
    address = "192.168.1.10"      # controller IP / hostname

    [tcp]
    offset = [0.0, 0.0, 0.174, 0.0, 0.0, 0.0]   # flange -> TCP: x, y, z (m), then rotation (rad, driver's convention)

    [frame]                       # the arm's base in the table frame
    base_xyz = [0.0, 0.0, -0.02]  # m: base origin 2 cm below the table top
    base_yaw = 0.0                # rad

    [workspace]
    min = [0.2, -0.45, 0.0]
    max = [0.8, 0.45, 0.55]
    table_clearance = 0.005       # m the TCP keeps above the table plane

    [[keep_out]]
    name = "camera mast"
    min = [0.70, -0.50, 0.0]
    max = [0.90, -0.30, 0.8]

    [limits]
    control_hz = 125.0
    max_speed = 0.25              # m/s TCP
    max_acceleration = 2.0        # m/s^2 TCP
    max_yaw_rate = 1.5            # rad/s
    max_force = 40.0              # N contact force that stops the arm
    max_grip_force = 40.0         # N
    joint_margin = 0.05           # rad
    watchdog_s = 0.3              # s without set-points while moving

    [home]
    position = [0.35, 0.0, 0.35]

    [camera]
    source = "0"                  # OpenCV device index, a video / image path, or "realsense"
    width = 640
    height = 480
    calibration = "camera_calibration.json"

    [driver_options]              # passed to the driver's own config (hardware.ur.URConfig, ...)
    gripper = "tool_digital"

:func:`load_robot_file` parses it into :class:`RobotFile` and raises :class:`RobotConfigError` (a
:class:`hardware.errors.UsageError`) naming the file and the first bad key.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Optional

from hardware.errors import UsageError
from hardware.safety import KeepOut, SafetyLimits

DRIVERS = ("xarm", "ur", "franka", "sim")
Vec3 = tuple[float, float, float]


class RobotConfigError(UsageError):
    """A robot config file that cannot be used; the message names the file and the key."""


@dataclass
class WorkspaceConfig:
    """TCP box (m, table frame) and the clearance (m) kept above the table plane z = 0."""

    min: Vec3 = (0.2, -0.45, 0.0)
    max: Vec3 = (0.8, 0.45, 0.55)
    table_clearance: float = 0.005


@dataclass
class LimitsConfig:
    """Control rate (Hz) and the safety limits (m/s, m/s^2, rad/s, N, rad, s); None: not checked."""

    control_hz: float = 60.0
    max_speed: float = 0.25
    max_acceleration: float = 2.0
    max_yaw_rate: float = 1.5
    max_force: Optional[float] = None
    max_grip_force: Optional[float] = None
    joint_lower: tuple[float, ...] = ()
    joint_upper: tuple[float, ...] = ()
    joint_margin: float = 0.05
    watchdog_s: float = 0.3


@dataclass
class FrameConfig:
    """The arm base in the table frame: origin (m) and turn about z (rad)."""

    base_xyz: Vec3 = (0.0, 0.0, 0.0)
    base_yaw: float = 0.0


@dataclass
class TcpConfig:
    """Flange to TCP: x, y, z (m) then the rotation (rad) in the driver's convention; None: keep the controller's."""

    offset: Optional[tuple[float, ...]] = None


@dataclass
class HomeConfig:
    """TCP position at home (m, table frame)."""

    position: Vec3 = (0.35, 0.0, 0.35)


@dataclass
class CameraConfig:
    """``source``: OpenCV device index ("0"), a file path, or "realsense"; frame size (px); the calibration
    file written by ``robocorrect robot calibrate`` / :func:`hardware.perception.calibration.save`."""

    source: str = "0"
    width: int = 640
    height: int = 480
    calibration: Optional[str] = None


@dataclass
class RobotFile:
    """A parsed robot config file (see the module docstring)."""

    driver: str
    address: Optional[str] = None
    tcp: TcpConfig = field(default_factory=TcpConfig)
    frame: FrameConfig = field(default_factory=FrameConfig)
    workspace: WorkspaceConfig = field(default_factory=WorkspaceConfig)
    keep_out: tuple[KeepOut, ...] = ()
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    home: HomeConfig = field(default_factory=HomeConfig)
    camera: Optional[CameraConfig] = None
    driver_options: dict[str, Any] = field(default_factory=dict)
    path: Optional[Path] = None

    def safety_limits(self) -> SafetyLimits:
        """The :class:`hardware.safety.SafetyLimits` this file sets."""
        lim = self.limits
        return SafetyLimits(workspace_min=self.workspace.min, workspace_max=self.workspace.max, table_z=0.0,
                            table_clearance=self.workspace.table_clearance, keep_out=self.keep_out,
                            max_speed=lim.max_speed, max_acceleration=lim.max_acceleration, max_yaw_rate=lim.max_yaw_rate,
                            max_force=lim.max_force, max_grip_force=lim.max_grip_force, joint_lower=lim.joint_lower,
                            joint_upper=lim.joint_upper, joint_margin=lim.joint_margin, watchdog_s=lim.watchdog_s)

    def driver_settings(self) -> dict[str, Any]:
        """Keywords for ``make_robot(self.driver, **...)``: the common fields mapped to the driver's names,
        then ``driver_options`` verbatim (the driver's config validates them)."""
        out: dict[str, Any] = {"control_hz": self.limits.control_hz, "max_speed": self.limits.max_speed,
                               "workspace_min": self.workspace.min, "workspace_max": self.workspace.max}
        if self.driver == "sim":
            return {**out, **self.driver_options}
        out["home_tcp"] = self.home.position
        if self.limits.max_grip_force is not None:
            out["gripper_max_force"] = self.limits.max_grip_force
        if self.driver == "xarm":
            if self.address:
                out["ip"] = self.address
            if self.frame.base_yaw:
                raise RobotConfigError(f"{self._where()}: frame.base_yaw: the xarm driver supports no base rotation; mount the arm with x forward")
            out["base_position"] = self.frame.base_xyz
            out["max_yaw_rate"] = self.limits.max_yaw_rate
            if self.tcp.offset is not None:
                out["tcp_offset"] = self.tcp.offset
        else:
            if self.address:
                out["host"] = self.address
            out.update(base_xyz=self.frame.base_xyz, base_yaw=self.frame.base_yaw, max_yaw_rate=self.limits.max_yaw_rate)
            if self.tcp.offset is not None:
                if self.driver == "franka":
                    raise RobotConfigError(f"{self._where()}: tcp.offset: set the Franka end effector in Desk instead")
                out["tcp_offset"] = self.tcp.offset
        return {**out, **self.driver_options}

    def _where(self) -> str:
        return str(self.path) if self.path else "robot config"


# --- parsing ------------------------------------------------------------------------------------------------------
def _num(v: Any, key: str, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)):
        raise RobotConfigError(f"{where}: {key} must be a finite number, got {v!r}")
    return float(v)


def _vec(v: Any, n: int | None, key: str, where: str) -> tuple[float, ...]:
    if not isinstance(v, list) or (n is not None and len(v) != n):
        raise RobotConfigError(f"{where}: {key} must be a list of {n if n else 'some'} numbers, got {v!r}")
    return tuple(_num(x, key, where) for x in v)


def _section(cls: type, data: Any, key: str, where: str) -> Any:
    """Build dataclass ``cls`` from table ``data``, converting by the field's declared default type."""
    if not isinstance(data, dict):
        raise RobotConfigError(f"{where}: [{key}] must be a table")
    known = {f.name: f for f in fields(cls)}
    kw: dict[str, Any] = {}
    for k, v in data.items():
        if k not in known:
            raise RobotConfigError(f"{where}: unknown key {key}.{k}; known: {', '.join(known)}")
        default = getattr(cls(), k)  # every section class has defaults; the default's type decides the parsing
        name = f"{key}.{k}"
        if isinstance(default, tuple) and len(default) == 3 and all(isinstance(x, float) for x in default):
            kw[k] = _vec(v, 3, name, where)
        elif isinstance(default, tuple) or k in ("offset",):
            kw[k] = _vec(v, None, name, where)
        elif isinstance(default, str) or (default is None and k in ("source", "calibration")):
            if not isinstance(v, (str, int)) or isinstance(v, bool):
                raise RobotConfigError(f"{where}: {name} must be a string, got {v!r}")
            kw[k] = str(v)
        elif isinstance(default, int) and not isinstance(default, bool):
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise RobotConfigError(f"{where}: {name} must be a positive integer, got {v!r}")
            kw[k] = v
        else:
            kw[k] = _num(v, name, where)
    return cls(**kw)


def parse_robot_file(data: dict[str, Any], path: Path | None = None) -> RobotFile:
    """A :class:`RobotFile` from a parsed TOML table; :class:`RobotConfigError` naming the first bad key."""
    where = str(path) if path else "robot config"
    allowed = {"driver", "address", "tcp", "frame", "workspace", "keep_out", "limits", "home", "camera", "driver_options"}
    for k in data:
        if k not in allowed:
            raise RobotConfigError(f"{where}: unknown key {k}; known: {', '.join(sorted(allowed))}")
    driver = data.get("driver")
    if driver not in DRIVERS:
        raise RobotConfigError(f"{where}: driver must be one of {', '.join(DRIVERS)}, got {driver!r}")
    address = data.get("address")
    if address is not None and not isinstance(address, str):
        raise RobotConfigError(f"{where}: address must be a string, got {address!r}")
    if driver in ("xarm", "ur", "franka") and not address:
        raise RobotConfigError(f"{where}: address is required for the {driver} driver")
    zones = []
    raw_zones = data.get("keep_out", [])
    if not isinstance(raw_zones, list):
        raise RobotConfigError(f"{where}: keep_out must be an array of tables ([[keep_out]])")
    for i, z in enumerate(raw_zones):
        key = f"keep_out[{i}]"
        if not isinstance(z, dict) or set(z) - {"name", "min", "max"} or not {"min", "max"} <= set(z):
            raise RobotConfigError(f"{where}: {key} needs exactly min, max and an optional name")
        lo, hi = _vec(z["min"], 3, f"{key}.min", where), _vec(z["max"], 3, f"{key}.max", where)
        if any(a >= b for a, b in zip(lo, hi)):
            raise RobotConfigError(f"{where}: {key}.min must be below {key}.max on every axis")
        zones.append(KeepOut(str(z.get("name", f"zone {i + 1}")), lo, hi))  # type: ignore[arg-type]
    opts = data.get("driver_options", {})
    if not isinstance(opts, dict):
        raise RobotConfigError(f"{where}: [driver_options] must be a table")
    rf = RobotFile(
        driver=driver, address=address,
        tcp=_section(TcpConfig, data.get("tcp", {}), "tcp", where),
        frame=_section(FrameConfig, data.get("frame", {}), "frame", where),
        workspace=_section(WorkspaceConfig, data.get("workspace", {}), "workspace", where),
        keep_out=tuple(zones),
        limits=_section(LimitsConfig, data.get("limits", {}), "limits", where),
        home=_section(HomeConfig, data.get("home", {}), "home", where),
        camera=_section(CameraConfig, data["camera"], "camera", where) if "camera" in data else None,
        driver_options={k: tuple(v) if isinstance(v, list) else v for k, v in opts.items()}, path=path)
    if any(a >= b for a, b in zip(rf.workspace.min, rf.workspace.max)):
        raise RobotConfigError(f"{where}: workspace.min must be below workspace.max on every axis")
    lim = rf.limits
    for k in ("control_hz", "max_speed", "max_acceleration", "max_yaw_rate"):
        if getattr(lim, k) <= 0:
            raise RobotConfigError(f"{where}: limits.{k} must be positive")
    if len(lim.joint_lower) != len(lim.joint_upper):
        raise RobotConfigError(f"{where}: limits.joint_lower and limits.joint_upper need one value per joint")
    if not all(a <= b for a, b in zip(rf.workspace.min, rf.home.position)) or not all(
            a <= b for a, b in zip(rf.home.position, rf.workspace.max)):
        raise RobotConfigError(f"{where}: home.position must lie inside the workspace box")
    return rf


def load_robot_file(path: str | Path) -> RobotFile:
    """Read and parse a robot config file (TOML); :class:`RobotConfigError` for a missing or bad file."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RobotConfigError(f"{p}: no such robot config file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise RobotConfigError(f"{p}: cannot read it: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise RobotConfigError(f"{p}: not valid TOML: {e}") from None
    return parse_robot_file(data, p)


__all__ = ["RobotFile", "RobotConfigError", "load_robot_file", "parse_robot_file", "WorkspaceConfig", "LimitsConfig",
           "FrameConfig", "TcpConfig", "HomeConfig", "CameraConfig", "DRIVERS"]
