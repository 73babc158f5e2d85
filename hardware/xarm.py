"""UFactory xArm (xArm 5 / 6 / 7, Lite 6) behind :class:`hardware.base.Robot`, through the vendor SDK
``xarm-python-sdk`` (``from xarm.wrapper import XArmAPI``; install with ``pip install 'robocorrect[hardware]'``).

The SDK is imported inside :meth:`XArmRobot.connect` only, so this module imports without it; the constructor
does no I/O (``robot = XArmRobot(config); robot.connect()`` or ``with XArmRobot(config) as robot:``); tests
inject a fake with ``XArmRobot(config, api=FakeAPI())``.

Frames and units
----------------
Ours (``shared/spec/corrections.md``): robot base frame, x forward, y left, z up; metres, radians. ``yaw`` is
the gripper's rotation about z with the gripper pointing straight down; yaw 0 = fingers closing along base y;
positive = counter-clockwise seen from above; wrapped into (-pi/2, pi/2] when read back (a parallel gripper
is symmetric under a half turn).

The SDK's (``doc/api/xarm_api.md`` of xArm-Developer/xArm-Python-SDK): Cartesian poses
``[x, y, z, roll, pitch, yaw]`` in mm and degrees (we always pass ``is_radian=False``), base frame x forward,
y left, z up; roll / pitch / yaw rotate about the base X / Y / Z axes, R = Rz(yaw) Ry(pitch) Rx(roll).
A downward-pointing tool is roll = 180 deg, pitch = 0 (the only orientation an xArm 5 accepts, SDK note on
``set_position``); the tool z axis is then -z and the tool y axis is (sin yaw, -cos yaw, 0). Assuming the
fingers close along the tool y axis (true for the xArm Gripper mounted as shipped), arm yaw = our yaw +
``XArmConfig.yaw_offset``; set ``yaw_offset`` (rad) if your gripper is mounted turned.

Our base frame may differ from the arm's by a translation: ``XArmConfig.base_position`` is the arm base
origin's position in our frame (m), e.g. ``(0, 0, -0.02)`` when the table top (our z = 0) is 2 cm above the
arm's base origin. Rotations between the frames are not supported: mount the arm with its x axis forward.

Control
-------
:meth:`XArmRobot.servo` clips the set-point to the workspace box and to ``max_speed / control_hz`` metres
from the previous set-point (and the yaw to ``max_yaw_rate / control_hz``), then streams it at once with
``set_servo_cartesian`` (servo motion mode: ``set_mode(1)``, ``set_state(0)``; the controller executes only
the latest set-point). :meth:`XArmRobot.tick` paces the loop at ``control_hz`` with ``time.monotonic``.
Any non-zero SDK return code raises :class:`hardware.base.RobotError` naming the call, the code and its
documented meaning, and latches the driver *faulted*: every later motion or gripper command raises at
once without talking to the arm, until :meth:`XArmRobot.recover` (which clears the controller error).
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

from hardware.base import Robot, RobotConfig, RobotError, RobotState, ServoCommand
from hardware.frames import limit_setpoint

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'robocorrect[hardware]'"
GRIPPER_KINDS = ("xarm", "xarm_g2", "lite6", "none")
G2_MAX_MM = 84.0  # xArm Gripper G2: position 0..84 mm, force 1..100 (SDK set_gripper_g2_position)
XARM_GRIPPER_MAX_UNITS = 850  # xArm Gripper position units: 0 closed .. 850 fully open
XARM_GRIPPER_UNITS_PER_M = 10000.0  # 850 units = 85 mm opening (10 units per mm)
DOWN_TOLERANCE_DEG = 5.0  # servo refuses to start when the tool axis is further than this from straight down
ROLL_DOWN_DEG = 180.0
PITCH_DOWN_DEG = 0.0

# API return codes (doc/api/xarm_api_code.md, "API Code").
API_CODES: dict[int, str] = {
    -12: "run blockly app exception", -11: "convert blockly app to python exception", -9: "emergency stop",
    -8: "out of range", -7: "joint angle limit", -6: "cartesian pos limit", -4: "command does not exist",
    -2: "xArm is not ready (motion not enabled or state not set)", -1: "xArm is disconnected or not connected",
    1: "there are controller errors that have not been cleared", 2: "there are warnings that have not been cleared",
    3: "get response timeout", 4: "tcp reply length error", 5: "tcp reply number error", 6: "tcp protocol flag error",
    7: "tcp reply command and send command do not match", 8: "send command error, maybe a network exception",
    9: "state is not ready to move", 10: "the result is invalid", 11: "other error", 12: "parameter error",
    20: "host id error", 21: "modbus baudrate not supported", 22: "modbus baudrate not correct",
    23: "modbus reply length error", 100: "wait finish timeout", 101: "too many consecutive failed tests",
    102: "end effector has error", 103: "end effector is not enabled",
}
LINK_LOST_CODES = frozenset({-1, 3, 8})  # disconnected, reply timeout, send error: the link to the arm is gone
# Controller error codes (same document, "Controller Error Code"); reported by get_err_warn_code / error_code.
CONTROLLER_ERRORS: dict[int, str] = {
    1: "the Emergency Stop Button is pushed", 2: "the Emergency IO of the Control Box is triggered",
    3: "the Emergency Stop Button of the Three-state Switch is pressed", 10: "servo motor error",
    **{10 + i: f"servo motor {i} error" for i in range(1, 8)},
    18: "force torque sensor communication error", 19: "end module communication error", 21: "kinematic error",
    22: "self-collision error", 23: "joints angle exceed limit", 24: "speed exceeds limit", 25: "planning error",
    26: "Linux RT error", 27: "command reply error", 28: "end module communication error", 29: "other errors",
    30: "feedback speed exceeds limit", 31: "collision caused abnormal current",
    33: "controller GPIO error", 35: "safety boundary limit", 36: "the number of delay commands exceeds the limit",
    37: "abnormal movement in manual mode", 38: "abnormal joint angle", 40: "no IK available",
}


def code_meaning(code: int) -> str:
    """The SDK's documented meaning of API return ``code`` (or 'undocumented code')."""
    return API_CODES.get(int(code), "undocumented code")


@dataclass
class XArmConfig(RobotConfig):
    """Settings of a real xArm. Inherited fields keep their meaning (m, m/s, rad, N); defaults here are slower
    than the simulation's because this is a real arm.

    ``ip``: controller address. ``control_hz``: set-points per second (servo-cartesian mode has no
    interpolation of its own, so keep the per-tick step ``max_speed / control_hz`` small: 2.5 mm by default). ``tcp_offset``: (x, y, z, roll, pitch, yaw) in m / rad from the flange to the
    TCP, written with ``set_tcp_offset`` at connect; None keeps what the controller has. The skills expect the
    TCP ``fingertip_below_tcp`` (11 mm by default) above the fingertips, i.e. z = flange-to-fingertip - 0.011.
    ``max_speed`` (m/s) caps the Cartesian step per tick; ``max_yaw_rate`` (rad/s) the yaw step per tick;
    ``home_speed`` (m/s) and ``home_acc`` (m/s^2) are used by :meth:`XArmRobot.home` (a position-mode move).
    ``gripper``: 'xarm' (xArm Gripper, 0..850 position units), 'xarm_g2' (xArm Gripper G2: mm, with a force
    setting 1..100), 'lite6' (Lite 6 open/close gripper, no width feedback) or 'none'. ``g2_speed``: G2 finger
    speed (mm/s, SDK range 15..225). ``gripper_speed_min`` / ``gripper_speed_max``: xArm Gripper speed (SDK: r/min) that
    force 0 / ``gripper_max_force`` maps to (this gripper has no force limit in the SDK; its closing speed is
    the closest setting). ``yaw_offset`` (rad): arm yaw at which the fingers close along base y.
    ``base_position`` (m): the arm base origin in our base frame. ``home_tcp`` (m): TCP at home.
    """

    ip: str = "192.168.1.185"
    control_hz: float = 100.0
    nominal_speed: float = 0.1
    max_speed: float = 0.25
    max_yaw_rate: float = 1.5
    home_speed: float = 0.08
    home_acc: float = 0.5
    tcp_offset: Optional[tuple[float, float, float, float, float, float]] = None
    gripper: str = "xarm"
    gripper_max_width: float = 0.085
    gripper_speed_min: float = 1000.0
    gripper_speed_max: float = 5000.0
    g2_speed: float = 100.0
    yaw_offset: float = 0.0
    base_position: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        if self.gripper not in GRIPPER_KINDS:
            raise ValueError(f"unknown xArm gripper kind {self.gripper!r}; known: {', '.join(GRIPPER_KINDS)}")
        if self.control_hz <= 0 or self.max_speed <= 0 or self.max_yaw_rate <= 0:
            raise ValueError("control_hz, max_speed and max_yaw_rate must be positive")
        if any(lo >= hi for lo, hi in zip(self.workspace_min, self.workspace_max)):
            raise ValueError(f"empty workspace box: {self.workspace_min} .. {self.workspace_max}")
        full = XARM_GRIPPER_MAX_UNITS / XARM_GRIPPER_UNITS_PER_M
        if self.gripper == "xarm_g2":
            full = G2_MAX_MM / 1000.0
        if self.gripper in ("xarm", "xarm_g2") and not 0 < self.gripper_max_width <= full + 1e-9:
            raise ValueError(f"gripper_max_width must be in (0, {full}] m for the {self.gripper} gripper")


# --- conversions (pure functions; tested without an arm) -----------------------------------------------------
def wrap_half_turn(yaw: float) -> float:
    """Wrap a gripper yaw (rad) into (-pi/2, pi/2]."""
    y = math.remainder(yaw, math.pi)
    return math.pi / 2 if math.isclose(y, -math.pi / 2) else y


def _wrap_deg(a: float) -> float:
    """Wrap an angle in degrees into (-180, 180]."""
    w = math.remainder(a, 360.0)
    return 180.0 if math.isclose(w, -180.0) else w


def to_arm_pose(position: Sequence[float], yaw: float, cfg: XArmConfig, prev_arm_yaw_deg: float | None = None) -> list[float]:
    """Our TCP set-point (base frame, m; yaw rad) -> SDK pose [x mm, y mm, z mm, roll deg, pitch deg, yaw deg].

    The gripper points down (roll 180, pitch 0). Of the two arm yaws that give the same finger line
    (``yaw + yaw_offset`` and that plus 180 deg) the one nearest ``prev_arm_yaw_deg`` is taken, so the wrist
    never flips half a turn between two ticks.
    """
    x, y, z = (1000.0 * (float(v) - b) for v, b in zip(position, cfg.base_position))
    a = math.degrees(yaw + cfg.yaw_offset)
    if prev_arm_yaw_deg is not None:
        a += 180.0 * round((prev_arm_yaw_deg - a) / 180.0)
    return [x, y, z, ROLL_DOWN_DEG, PITCH_DOWN_DEG, _wrap_deg(a)]


def from_arm_pose(pose: Sequence[float], cfg: XArmConfig) -> tuple[tuple[float, float, float], float]:
    """SDK pose [x mm, y mm, z mm, roll deg, pitch deg, yaw deg] -> our TCP position (m) and yaw (rad, (-pi/2, pi/2]).

    The yaw is read from the tool y axis (the finger line) projected on the table, so any roll / pitch / yaw
    representation of a downward tool gives the same answer.
    """
    x, y, z = (float(v) / 1000.0 + b for v, b in zip(pose[:3], cfg.base_position))
    r, p, w = (math.radians(float(v)) for v in pose[3:6])
    # tool y axis = R[:, 1] with R = Rz(w) Ry(p) Rx(r)
    ux = math.cos(w) * math.sin(p) * math.sin(r) - math.sin(w) * math.cos(r)
    uy = math.sin(w) * math.sin(p) * math.sin(r) + math.cos(w) * math.cos(r)
    finger_yaw = math.atan2(-ux, uy)  # our yaw has the finger line along (-sin yaw, cos yaw)
    return (x, y, z), wrap_half_turn(finger_yaw - cfg.yaw_offset)


def width_to_units(width: float, cfg: XArmConfig) -> int:
    """Finger opening (m, clipped to [0, gripper_max_width]) -> xArm Gripper position units (0 closed .. 850 open)."""
    w = min(max(float(width), 0.0), cfg.gripper_max_width)
    return int(round(min(w * XARM_GRIPPER_UNITS_PER_M, XARM_GRIPPER_MAX_UNITS)))


def units_to_width(units: float) -> float:
    """xArm Gripper position units -> finger opening (m); negative readings (the SDK allows about -10) read as 0."""
    return max(float(units), 0.0) / XARM_GRIPPER_UNITS_PER_M


def force_to_g2_force(force: float, cfg: XArmConfig) -> int:
    """Grip force (N, clipped to [0, gripper_max_force]) -> xArm Gripper G2 force setting 1..100."""
    f = min(max(float(force), 0.0), cfg.gripper_max_force) / cfg.gripper_max_force
    return int(min(max(round(100 * f), 1), 100))


def force_to_gripper_speed(force: float, cfg: XArmConfig) -> float:
    """Grip force (N, clipped to [0, gripper_max_force]) -> xArm Gripper speed (r/min), linear between
    ``gripper_speed_min`` and ``gripper_speed_max``."""
    f = min(max(float(force), 0.0), cfg.gripper_max_force) / cfg.gripper_max_force
    return cfg.gripper_speed_min + f * (cfg.gripper_speed_max - cfg.gripper_speed_min)


# --- the driver ----------------------------------------------------------------------------------------------
class XArmRobot(Robot):
    """A real xArm streamed in servo-cartesian mode; see the module docstring for frames, units and safety.

    ``api``: an object with the ``XArmAPI`` methods (for tests); None connects to ``config.ip`` with the SDK.
    ``clock`` / ``sleep``: the pacing clock (s) and sleeper, ``time.monotonic`` / ``time.sleep`` by default.

    About 25 methods, one job: driving one xArm through its SDK (lifecycle, the Robot interface, and the
    SDK plumbing that maps return codes to errors). The SDK-independent conversions are module functions.
    """

    real_time = True  # a real arm keeps moving between commands: the safety layer's watchdog guards it

    def __init__(self, config: XArmConfig | None = None, api: Any = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        """No I/O: :meth:`connect` imports the SDK (unless ``api`` is given) and talks to the arm."""
        self.config = config or XArmConfig()
        self._clock = clock
        self._sleep = sleep
        self.api = api
        self.fault: Optional[str] = None
        self._connected = False
        self._t0 = clock()
        self._next_tick: Optional[float] = None
        self._grip_cmd = (self.config.gripper_max_width, 0.0)
        self._target: tuple[float, float, float] = (0.0, 0.0, 0.0)
        self._target_yaw = 0.0

    # --- lifecycle --------------------------------------------------------------------------------------------
    @property
    def is_connected(self) -> bool:
        """True between a successful :meth:`connect` and :meth:`disconnect`."""
        return self._connected

    @property
    def closed(self) -> bool:
        """Not connected (kept for callers of the old attribute)."""
        return not self._connected

    def connect(self) -> None:
        """Open the SDK connection to ``config.ip`` (``XArmAPI(ip, is_radian=False)``), clear errors, enable
        the motors, set the TCP offset and gripper, enter servo mode and take the measured pose as the
        set-point. Raises RobotError (install hint when the SDK is missing, the failing call otherwise)."""
        if self._connected:
            return
        if self.api is None:
            try:
                from xarm.wrapper import XArmAPI  # vendor SDK, optional dependency
            except ImportError as e:
                raise RobotError(f"the xArm driver needs the UFactory SDK (xarm-python-sdk): {INSTALL_HINT}") from e
            self.api = XArmAPI(self.config.ip, is_radian=False)
        self.fault = None
        self._t0 = self._clock()
        self._next_tick = None
        self._connect()
        self._sync_setpoint()
        self._connected = True
        logger.info("xArm at %s connected", self.config.ip)

    # --- SDK plumbing -----------------------------------------------------------------------------------------
    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call SDK method ``name``; a non-zero return code latches the fault and raises RobotError."""
        ret = getattr(self.api, name)(*args, **kwargs)
        code = ret[0] if isinstance(ret, (tuple, list)) else ret
        if code is not None and int(code) != 0:
            msg = f"xArm {name} failed with code {int(code)}: {code_meaning(int(code))}"
            if int(code) == 1:
                msg += self._controller_error_text()
            self.fault = msg
            logger.warning("%s", msg)
            if int(code) in LINK_LOST_CODES:
                self._stop_best_effort()
            raise RobotError(msg + "; call recover() once the cause is fixed")
        return ret

    def _controller_error_text(self) -> str:
        """', controller error N: meaning' read with get_err_warn_code, or '' when unavailable."""
        try:
            ret = self.api.get_err_warn_code()
            err = int(ret[1][0]) if ret and int(ret[0]) == 0 else 0
        except Exception:  # noqa: BLE001 - best effort while reporting another error
            return ""
        return f" (controller error {err}: {CONTROLLER_ERRORS.get(err, 'see the xArm user manual')})" if err else ""

    def _stop_best_effort(self) -> None:
        """Ask the controller to stop (``set_state(4)``); on a lost link the controller also stops by itself
        when set-points stop arriving. Never raises."""
        try:
            self.api.set_state(4)
        except Exception:  # noqa: BLE001 - the link is already failing
            pass

    def _require_ready(self) -> None:
        self.require_connected()
        if self.fault:
            raise RobotError(f"the xArm driver is faulted ({self.fault}); nothing was sent; call recover() first")

    def _connect(self) -> None:
        """Clear errors, enable motors, set the TCP offset, enable the gripper, enter servo motion mode."""
        cfg = self.config
        self._call("clean_error")
        self._call("clean_warn")
        self._call("motion_enable", enable=True)
        self._call("set_mode", 0)
        self._call("set_state", 0)
        if cfg.tcp_offset is not None:
            off = list(cfg.tcp_offset)
            self._call("set_tcp_offset", [1000.0 * v for v in off[:3]] + [math.degrees(v) for v in off[3:]], is_radian=False)
        if cfg.gripper == "xarm":
            self._call("set_gripper_mode", 0)  # location (position) mode
            self._call("set_gripper_enable", True)
            self._call("set_gripper_speed", cfg.gripper_speed_max)
        elif cfg.gripper == "xarm_g2":
            self._call("set_gripper_enable", True)
        self._enter_servo_mode()

    def _enter_servo_mode(self) -> None:
        self._call("set_mode", 1)  # servo motion mode: set_servo_cartesian executes only the latest set-point
        self._call("set_state", 0)

    def _read_pose(self) -> list[float]:
        _, pose = self._call("get_position", is_radian=False)
        return [float(v) for v in pose]

    def _sync_setpoint(self) -> None:
        """Make the measured pose the reference that the next servo step is limited from; note whether the
        tool points down (within ``DOWN_TOLERANCE_DEG``), since every servo set-point does."""
        pose = self._read_pose()
        self._target, self._target_yaw = from_arm_pose(pose, self.config)
        self._arm_yaw_deg = float(pose[5])
        r, p = math.radians(pose[3]), math.radians(pose[4])
        tool_z_down = -math.cos(p) * math.cos(r)  # -(R[2, 2]) of R = Rz Ry Rx
        self._tilt_msg = None
        if tool_z_down < math.cos(math.radians(DOWN_TOLERANCE_DEG)):
            self._tilt_msg = (f"the gripper is not pointing down (roll {pose[3]:.1f} deg, pitch {pose[4]:.1f} deg); "
                              "call home() first so that servo does not snap the wrist")

    # --- Robot interface --------------------------------------------------------------------------------------
    def state(self) -> RobotState:
        """Measured TCP pose (base frame, m / rad), gripper opening (m), joints (rad), seconds since connect."""
        self.require_connected()
        pos, yaw = from_arm_pose(self._read_pose(), self.config)
        joints: tuple[float, ...] = ()
        if hasattr(self.api, "get_servo_angle"):
            _, q = self._call("get_servo_angle", is_radian=True)
            joints = tuple(float(v) for v in q)
        return RobotState(tcp_position=pos, tcp_yaw=yaw, gripper_width=self.gripper_width(), joints=joints,
                          time_s=self._clock() - self._t0)

    def gripper_width(self) -> float:
        """Finger opening (m): measured on the xArm Gripper, the last command otherwise (no feedback)."""
        if self.config.gripper == "xarm":
            _, units = self._call("get_gripper_position")
            return units_to_width(units)
        if self.config.gripper == "xarm_g2":
            _, mm = self._call("get_gripper_g2_position")
            return max(float(mm), 0.0) / 1000.0
        return self._grip_cmd[0]

    def servo(self, position: Sequence[float], yaw: float) -> ServoCommand:
        """Clip the TCP set-point (base frame, m / rad) to the workspace and the per-tick speed limits, send it
        with ``set_servo_cartesian`` (mm / deg) and return what was sent (``clipped`` when anything was cut)."""
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
        pose = to_arm_pose(pos, y_goal, cfg, self._arm_yaw_deg)
        self._call("set_servo_cartesian", pose, is_radian=False)
        self._target = (pos[0], pos[1], pos[2])
        self._target_yaw = wrap_half_turn(y_goal)
        self._arm_yaw_deg = pose[5]
        return ServoCommand(tcp_position=self._target, tcp_yaw=self._target_yaw, clipped=clipped)

    def set_gripper(self, width: float, force: float) -> None:
        """Start moving the fingers to ``width`` (m) without waiting. xArm Gripper: position units
        ``round(width * 10000)`` (0..850), speed from ``force`` (N) per :func:`force_to_gripper_speed`.
        G2: ``width`` in mm, force setting per :func:`force_to_g2_force`, ``g2_speed``. Lite 6: opens when ``width`` is at least half of ``gripper_max_width``, closes otherwise."""
        self._require_ready()
        if not (math.isfinite(width) and math.isfinite(force)):
            raise RobotError(f"gripper needs a finite width (m) and force (N), got {width!r}, {force!r}")
        cfg = self.config
        w = min(max(float(width), 0.0), cfg.gripper_max_width)
        f = min(max(float(force), 0.0), cfg.gripper_max_force)
        if cfg.gripper == "xarm":
            self._call("set_gripper_position", width_to_units(w, cfg), wait=False, speed=force_to_gripper_speed(f, cfg))
        elif cfg.gripper == "xarm_g2":
            self._call("set_gripper_g2_position", round(1000.0 * w, 1), speed=cfg.g2_speed, force=force_to_g2_force(f, cfg), wait=False)
        elif cfg.gripper == "lite6":
            if w >= cfg.gripper_max_width / 2:
                self._call("open_lite6_gripper")
                w = cfg.gripper_max_width
            else:
                self._call("close_lite6_gripper")
                w = 0.0
        self._grip_cmd = (w, f)

    def tick(self, n: int = 1) -> None:
        """Wait until ``n`` more control periods (``1 / control_hz`` s each) have passed since the last tick
        (``time.monotonic``); a loop that fell more than a period behind restarts its schedule instead of
        bursting. Raises RobotError when the controller reports an error (``api.error_code``)."""
        self._require_ready()
        dt = self.control_dt
        for _ in range(max(0, int(n))):
            now = self._clock()
            if self._next_tick is None or now - self._next_tick > dt:
                self._next_tick = now + dt
            wait = self._next_tick - now
            if wait > 0:
                self._sleep(wait)
            self._next_tick += dt
            err = int(getattr(self.api, "error_code", 0) or 0)
            if err:
                self.fault = f"xArm controller error {err}: {CONTROLLER_ERRORS.get(err, 'see the xArm user manual')}"
                raise RobotError(self.fault + "; call recover() once the cause is fixed")

    def hold(self) -> None:
        """Stop streaming: the controller keeps the last set-point, so the arm stays where it was sent."""
        self._next_tick = None

    def home(self) -> None:
        """Move slowly to ``config.home_tcp`` (gripper down, yaw 0) in position mode (``set_position``,
        ``home_speed`` m/s, ``home_acc`` m/s^2, waiting), open the gripper, and return to servo mode."""
        self._require_ready()
        cfg = self.config
        self._call("set_mode", 0)
        self._call("set_state", 0)
        x, y, z, roll, pitch, yaw = to_arm_pose(cfg.home_tcp, 0.0, cfg)
        self._call("set_position", x=x, y=y, z=z, roll=roll, pitch=pitch, yaw=yaw, speed=1000.0 * cfg.home_speed,
                   mvacc=1000.0 * cfg.home_acc, is_radian=False, wait=True)
        self._enter_servo_mode()
        self._sync_setpoint()
        if cfg.gripper != "none":
            self.set_gripper(cfg.gripper_max_width, cfg.gripper_max_force / 5)

    def recover(self) -> None:
        """Clear the controller error and the latched fault (``clean_error``, ``motion_enable``, servo mode) and
        take the measured pose as the new set-point. Fix the cause (e-stop, collision) first."""
        self.require_connected()
        self.fault = None
        self._connect()
        self._sync_setpoint()

    def stop(self) -> None:
        """Immediate stop: ``set_state(4)`` (the controller decelerates and stops), then back to servo mode
        with the measured pose as the set-point, so the arm stays where it stopped."""
        self.require_connected()
        self._call("set_state", 4)
        self._enter_servo_mode()
        self._sync_setpoint()
        self._next_tick = None

    def disconnect(self) -> None:
        """Leave servo mode (position mode, state 0) and disconnect; safe to call twice."""
        if not self._connected:
            return
        self._connected = False
        for name, args in (("set_mode", (0,)), ("set_state", (0,))):
            try:
                getattr(self.api, name)(*args)
            except Exception:  # noqa: BLE001 - closing must not fail halfway
                pass
        disconnect = getattr(self.api, "disconnect", None)
        if disconnect is not None:
            disconnect()

    @property
    def setpoint(self) -> tuple[tuple[float, float, float], float]:
        """Last commanded TCP set-point (m, base frame) and yaw (rad)."""
        return self._target, self._target_yaw


__all__ = ["XArmConfig", "XArmRobot", "to_arm_pose", "from_arm_pose", "width_to_units", "units_to_width",
           "force_to_gripper_speed", "force_to_g2_force", "code_meaning", "API_CODES", "CONTROLLER_ERRORS", "INSTALL_HINT"]
