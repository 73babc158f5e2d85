"""The skill executor and the skills: pick, place, push, move_to, open_gripper, close_gripper, home.

``run_skill(call, robot, world, control)`` validates ``call`` (``skills.schema.validate_call`` against
``world.names()``) before any motion, then drives the robot tick by tick: each control tick it calls
``control.on_tick(tick, robot.state())``, returns within that tick when a stop is requested, and
re-plans the rest of the motion from where the arm is when ``control.replace_args`` handed it new
arguments. Every motion is a sequence of *phases* (straight Cartesian lines with a minimum-jerk profile,
gripper actions, waits); a phase computes its goal from the arguments and the world when it starts, so a
re-plan restarts the current phase from the current set-point with the new arguments.

Canonical arguments (``shared/spec/corrections.md``), robot base frame, metres / radians / newtons:

- pick: the aimed grasp point is the object's centre in xy and, in z, the TCP height that puts the
  fingertips ``GRASP_DEPTH`` below the object's top; ``offset`` is added to it. ``yaw`` is added to the
  skill's own choice (``grasp_yaw``: a face of the block, its yaw folded into [-pi/4, pi/4] or a quarter turn
  from it when that gives the 21 cm wide hand more room from tall neighbours and rims). ``height`` is the travel / lift altitude above the grasp
  point. ``force`` is the finger motors' force limit, i.e. the grip.
- place: the aimed point is where the held object's centre (xy) ends up: the target's centre plus
  ``offset`` (the object's offset in the hand is compensated); it is released just above the target
  (bowl rim, block top, table), ``offset`` z raises the release. ``yaw`` turns the object at release.
- Travel: an empty gripper travels at the approach altitude (``aim z + height``); a loaded one never
  descends before it is above the target (altitude ``max(current, aim z + height)``).
- ``speed`` scales every phase's duration by ``1 / speed`` (nominal Cartesian speed
  ``RobotConfig.nominal_speed`` at 1.0, capped at ``RobotConfig.max_speed``).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional

from hardware.base import Robot, RobotState, World
from skills.base import FAILURES, Outcome, SkillControl
from skills.schema import NAMED_SPOTS, SkillArgError, validate_call, validate_plan

GRASP_DEPTH = 0.012  # default: fingertips this far below the object's top (m)
FINGERTIP_BELOW_TCP = 0.011  # Panda fingertips reach this far below the TCP (m)
MIN_TCP_Z = 0.013  # lowest TCP height: fingertips 2 mm above the table (m)
RELEASE_ABOVE_CONTAINER = 0.01  # held object's bottom this far above a bowl / tray rim at release (m)
RELEASE_ABOVE_BLOCK = 0.006
RELEASE_ABOVE_TABLE = 0.004
YAW_RATE = 1.5  # rad/s at speed 1.0
GRIP_CLOSE_S = 0.45
GRIP_OPEN_S = 0.3
SETTLE_S = 0.35
SETTLE_AT_AIM_S = 0.2  # hold still at the grasp / release point so the arm's set-point correction converges
HOME_TCP = (0.35, 0.0, 0.35)
KNOCK_TILT = 0.5  # rad
KNOCK_MOVE = 0.03  # m


class _Stopped(Exception):
    pass


@dataclass
class _Phase:
    """One piece of a skill: ``build(args)`` returns an iterator of (position, yaw, gripper) per tick."""

    name: str
    build: Callable[[dict[str, Any]], Iterator[tuple[tuple[float, float, float], float]]]


def _min_jerk(s: float) -> float:
    return s * s * s * (10 - 15 * s + 6 * s * s)


def _fold_quarter(yaw: float) -> float:
    """Fold a block's yaw into [-pi/4, pi/4] (a cube looks the same every quarter turn)."""
    return math.remainder(yaw, math.pi / 2)


class _Executor:
    """Runs one validated skill call on a robot in a world, tick by tick."""

    def __init__(self, call: dict[str, Any], robot: Robot, world: World, control: Optional[SkillControl]) -> None:
        self.skill = call["skill"]
        self.args = call["args"]
        self.robot = robot
        self.world = world
        self.control = control
        self.tick_count = 0
        self._checked_tick = -1
        st = robot.state()
        self.cmd_pos: tuple[float, float, float] = tuple(st.tcp_position)  # type: ignore[assignment]
        self.cmd_yaw = st.tcp_yaw
        self.t0_sim = st.time_s
        self.t0_wall = time.perf_counter()
        self.max_z = st.tcp_position[2]
        self.start_poses = {n: self._pose4(n) for n in world.names()}
        self.start_tilt = {n: self._tilt(n) for n in world.names()}
        self.trace: list[tuple[float, float, float]] = []

    # --- helpers -------------------------------------------------------------------------------------
    def _pose4(self, n: str) -> list[float]:
        (x, y, z), yaw = self.world.pose(n)
        return [x, y, z, yaw]

    def _tilt(self, n: str) -> float:
        return float(self.world.tilt(n))

    @property
    def speed(self) -> float:
        return float(self.args.get("speed", 1.0))

    def ticks_for(self, seconds: float) -> int:
        return max(1, int(round(seconds * self.robot.config.control_hz)))

    # --- the tick loop --------------------------------------------------------------------------------
    def _tick(self, pos: tuple[float, float, float], yaw: float) -> None:
        """One control tick: hook, stop / new-args handling is done by the caller."""
        cmd = self.robot.servo(pos, yaw)
        self.cmd_pos, self.cmd_yaw = tuple(cmd.tcp_position), yaw  # type: ignore[assignment]
        self.robot.tick()
        self.tick_count += 1
        z = self.robot.state().tcp_position[2] if self.tick_count % 4 == 0 else self.cmd_pos[2]
        self.max_z = max(self.max_z, z)

    def _check(self) -> bool:
        """Call the hook; raise _Stopped on a stop request; return True when new args arrived (validated)."""
        if self.control is None:
            return False
        state: RobotState = self.robot.state()
        self.control.on_tick(self.tick_count, state)
        if self.control.stop_requested:
            if self.control.stop_tick is None:
                self.control.stop_tick = self.tick_count
            raise _Stopped()
        new = self.control.take_new_args()
        if new is None:
            return False
        merged = validate_call({"skill": self.skill, "args": {**self.args, **new}}, self.world.names())["args"]
        _check_semantics(self.skill, merged, self.world)
        self.args = merged
        return True

    def run_phases(self, phases: list[_Phase]) -> None:
        for ph in phases:
            it = ph.build(self.args)
            while True:
                if self._checked_tick != self.tick_count:  # the hook runs once per control tick
                    self._checked_tick = self.tick_count
                    if self._check():
                        it = ph.build(self.args)  # re-plan this phase from where we are, with the new args
                try:
                    pos, yaw = next(it)
                except StopIteration:
                    break
                self._tick(pos, yaw)

    # --- phase builders -------------------------------------------------------------------------------
    def line(self, goal: Callable[[dict[str, Any]], tuple[tuple[float, float, float], float]]) -> _Phase:
        """Straight line from the current set-point to ``goal(args)`` (position, yaw), minimum-jerk in time."""

        def build(args: dict[str, Any]) -> Iterator[tuple[tuple[float, float, float], float]]:
            (gx, gy, gz), gyaw = goal(args)
            sx, sy, sz = self.cmd_pos
            syaw = self.cmd_yaw
            dyaw = gyaw - syaw
            dist = math.dist((sx, sy, sz), (gx, gy, gz))
            cfg = self.robot.config
            sp = float(args.get("speed", 1.0))
            dur = max(dist / (cfg.nominal_speed * sp), 1.875 * dist / cfg.max_speed, abs(dyaw) / (YAW_RATE * sp))
            n = self.ticks_for(dur) if dist > 1e-4 or abs(dyaw) > 1e-3 else 0
            for i in range(1, n + 1):
                s = _min_jerk(i / n)
                yield (sx + s * (gx - sx), sy + s * (gy - sy), sz + s * (gz - sz)), syaw + s * dyaw

        return _Phase("line", build)

    def gripper(self, width: float, force_key: str | None, seconds: float, force: float = 20.0) -> _Phase:
        def build(args: dict[str, Any]) -> Iterator[tuple[tuple[float, float, float], float]]:
            f = float(args.get(force_key, force)) if force_key else force
            self.robot.set_gripper(width, f)
            for _ in range(self.ticks_for(seconds / max(float(args.get("speed", 1.0)), 0.1))):
                yield self.cmd_pos, self.cmd_yaw

        return _Phase("gripper", build)

    def wait(self, seconds: float, scaled: bool = True) -> _Phase:
        def build(args: dict[str, Any]) -> Iterator[tuple[tuple[float, float, float], float]]:
            sp = max(float(args.get("speed", 1.0)), 0.1) if scaled else 1.0
            for _ in range(self.ticks_for(seconds / sp)):
                yield self.cmd_pos, self.cmd_yaw

        return _Phase("wait", build)

    # --- outcome ----------------------------------------------------------------------------------------
    def knocked(self, exclude: set[str]) -> list[str]:
        out = []
        for n, (x, y, z, _) in self.start_poses.items():
            if n in exclude:
                continue
            (nx, ny, nz), _ = self.world.pose(n)
            tilted = self._tilt(n) > KNOCK_TILT and self.start_tilt[n] < KNOCK_TILT / 2
            if tilted or math.dist((x, y, z), (nx, ny, nz)) > KNOCK_MOVE:
                out.append(n)
        return out

    def outcome(self, success: bool, failure: str | None = None, message: str = "", error_xy: tuple[float, float] | None = None,
                stopped: bool = False) -> Outcome:
        if failure and not message:
            message = FAILURES[failure]
        return Outcome(
            skill=self.skill, success=success, message=message, failure=failure,
            final_poses={n: self._pose4(n) for n in self.world.names()},
            duration_s=self.tick_count * self.robot.control_dt, wall_s=time.perf_counter() - self.t0_wall,
            ticks=self.tick_count, stopped=stopped, args=dict(self.args), error_xy=error_xy,
        )


# --- geometry shared by the skills -------------------------------------------------------------------------
def target_centre(world: World, target: str) -> tuple[float, float]:
    """Centre xy (m, base frame) of a scene object or a named spot."""
    if target in NAMED_SPOTS:
        return NAMED_SPOTS[target]
    (x, y, _), _ = world.pose(target)
    return x, y


def grasp_point(world: World, name: str, offset: list[float]) -> tuple[float, float, float]:
    """TCP position of the pick aimed at ``name`` with ``offset`` (m, base frame)."""
    (x, y, z), _ = world.pose(name)
    h = world.dims(name)[2]
    top = z + h / 2
    gz = top - GRASP_DEPTH + FINGERTIP_BELOW_TCP + offset[2]
    return x + offset[0], y + offset[1], max(gz, MIN_TCP_Z)


HAND_HALF_WIDTH = 0.105  # the Panda hand reaches this far from the TCP along the finger axis (m)
HAND_ABOVE_TCP = 0.035  # the hand's underside is this far above the TCP (m)


def grasp_yaw(world: World, name: str) -> float:
    """The pick's own yaw choice for block ``name``: one of its faces (a cube looks the same every quarter turn),
    the one that keeps the hand's wide side (along the fingers) farthest from tall things around it; the
    face nearest to yaw 0 when both are clear."""
    (x, y, z), yaw = world.pose(name)
    g = _fold_quarter(yaw)
    hand_z = z + world.dims(name)[2] / 2 - GRASP_DEPTH + FINGERTIP_BELOW_TCP + HAND_ABOVE_TCP
    obstacles = []
    for other in world.names():
        if other == name:
            continue
        (ox, oy, oz), _ = world.pose(other)
        d = world.dims(other)
        if oz + d[2] / 2 > hand_z - 0.01 and math.hypot(ox - x, oy - y) < 0.3:
            obstacles.append((ox, oy, max(d[0], d[1]) / 2))

    def clearance(cand: float) -> float:
        ux, uy = -math.sin(cand), math.cos(cand)  # finger (closing) axis
        best = 1.0
        for ox, oy, r in obstacles:
            t = max(-HAND_HALF_WIDTH, min(HAND_HALF_WIDTH, (ox - x) * ux + (oy - y) * uy))
            best = min(best, math.hypot(ox - (x + t * ux), oy - (y + t * uy)) - r)
        return best

    cands = sorted((g, math.remainder(g + math.pi / 2, math.pi)), key=abs)
    c0, c1 = clearance(cands[0]), clearance(cands[1])
    return cands[1] if c1 > c0 + 0.01 and c0 < 0.06 else cands[0]


def _held(world: World) -> str | None:
    return world.held()


def _grasped(world: World) -> str | None:
    return world.grasped()


def _check_semantics(skill: str, args: dict[str, Any], world: World) -> None:
    """Checks beyond the schema that need the world (raise SkillArgError before motion)."""
    if skill in ("pick",) and world.kind(args["object"]) != "block":
        raise SkillArgError(f"I can only pick up blocks; the {args['object']} is a {world.kind(args['object'])}")
    if skill == "push" and math.hypot(args["direction"][0], args["direction"][1]) < 1e-6:
        raise SkillArgError("push.direction needs a non-zero x or y component")


def _in_workspace(robot: Robot, p: tuple[float, float, float]) -> bool:
    lo, hi = robot.config.workspace_min, robot.config.workspace_max
    return all(a - 1e-9 <= v <= b + 1e-9 for v, a, b in zip(p, lo, hi))


def describe_offset(dx: float, dy: float) -> str:
    """'3.0 cm left and 1.2 cm forward' style description of an xy offset (base frame, m), read with "... of X"."""
    parts = []
    if abs(dy) >= 0.005:
        parts.append(f"{100 * abs(dy):.1f} cm {'left' if dy > 0 else 'right'}")
    if abs(dx) >= 0.005:
        parts.append(f"{100 * abs(dx):.1f} cm {'forward' if dx > 0 else 'back'}")
    return " and ".join(parts)


# --- the skills ------------------------------------------------------------------------------------------------
def _pick(ex: _Executor) -> Outcome:
    world, robot = ex.world, ex.robot
    name = ex.args["object"]
    base_yaw = grasp_yaw(world, name)

    def aim(args: dict[str, Any]) -> tuple[tuple[float, float, float], float]:
        return grasp_point(world, name, args["offset"]), base_yaw + float(args["yaw"])

    def alt(args: dict[str, Any]) -> float:
        return aim(args)[0][2] + float(args["height"])

    (ax, ay, az), _ = aim(ex.args)
    if not _in_workspace(robot, (ax, ay, az)) or not _in_workspace(robot, (ax, ay, alt(ex.args))):
        return ex.outcome(False, "unreachable", f"could not reach the {name}")
    phases = [
        ex.gripper(robot.config.gripper_max_width, None, GRIP_OPEN_S),
        ex.line(lambda a: ((ex.cmd_pos[0], ex.cmd_pos[1], alt(a)), ex.cmd_yaw)),
        ex.line(lambda a: ((aim(a)[0][0], aim(a)[0][1], alt(a)), aim(a)[1])),
        ex.line(lambda a: aim(a)),
        ex.wait(SETTLE_AT_AIM_S),
        ex.gripper(0.0, "force", GRIP_CLOSE_S),
    ]
    ex.run_phases(phases)
    grasped_at_close = _grasped(world) == name
    ex.run_phases([ex.line(lambda a: ((ex.cmd_pos[0], ex.cmd_pos[1], alt(a)), ex.cmd_yaw)), ex.wait(0.15, scaled=False)])
    held = _held(world)
    knocked = ex.knocked({name})
    if knocked:
        return ex.outcome(False, "knocked_over", f"knocked over the {knocked[0]}")
    if held == name:
        return ex.outcome(True, message=f"picked up the {name}")
    if grasped_at_close or _grasped(world) == name or world.pose(name)[0][2] > ex.start_poses[name][2] + 0.005:
        return ex.outcome(False, "slipped", f"the {name} slipped out of the gripper")
    return ex.outcome(False, "missed_grasp", f"missed the grasp of the {name}")


def _place(ex: _Executor) -> Outcome:
    world, robot = ex.world, ex.robot
    target = ex.args["target"]
    held = _held(world)
    if held is None:
        return ex.outcome(False, "nothing_held", "there is nothing in the gripper to place")
    if held == target:
        raise SkillArgError(f"cannot place the {held} onto itself")
    st = robot.state()
    (ox, oy, oz), _ = world.pose(held)
    oh = world.dims(held)[2]
    in_hand = (ox - st.tcp_position[0], oy - st.tcp_position[1], (oz - oh / 2) - st.tcp_position[2])
    spot = target in NAMED_SPOTS and target not in world.names()
    if spot:
        release_bottom = RELEASE_ABOVE_TABLE
        kind = "spot"
    else:
        kind = world.kind(target)
        (tx, ty, tz), _ = world.pose(target)
        top = tz + world.dims(target)[2] / 2
        release_bottom = top + (RELEASE_ABOVE_CONTAINER if kind in ("bowl", "tray") else RELEASE_ABOVE_BLOCK)
    yaw0 = st.tcp_yaw

    def aim(args: dict[str, Any]) -> tuple[tuple[float, float, float], float]:
        cx, cy = target_centre(world, target)
        off = args["offset"]
        return (cx + off[0] - in_hand[0], cy + off[1] - in_hand[1], release_bottom - in_hand[2] + off[2]), yaw0 + float(args["yaw"])

    def alt(args: dict[str, Any]) -> float:
        return aim(args)[0][2] + float(args["height"])

    (ax, ay, az), _ = aim(ex.args)
    if not _in_workspace(robot, (ax, ay, az)) or not _in_workspace(robot, (ax, ay, alt(ex.args))):
        return ex.outcome(False, "unreachable", f"could not reach the {target}")
    ex.run_phases([
        ex.line(lambda a: ((ex.cmd_pos[0], ex.cmd_pos[1], max(ex.cmd_pos[2], alt(a))), ex.cmd_yaw)),
        ex.line(lambda a: ((aim(a)[0][0], aim(a)[0][1], max(ex.cmd_pos[2], alt(a))), aim(a)[1])),
        ex.line(lambda a: aim(a)),
    ])
    ex.run_phases([ex.wait(SETTLE_AT_AIM_S)])
    if _held(world) != held:
        ex.run_phases([ex.wait(SETTLE_S, scaled=False)])
        return ex.outcome(False, "dropped", f"dropped the {held} on the way")
    ex.run_phases([
        ex.gripper(robot.config.gripper_max_width, None, GRIP_OPEN_S),
        ex.line(lambda a: ((ex.cmd_pos[0], ex.cmd_pos[1], alt(a)), ex.cmd_yaw)),
        ex.wait(SETTLE_S, scaled=False),
    ])
    (fx, fy, _), _ = world.pose(held)
    cx, cy = target_centre(world, target)
    err = (fx - cx, fy - cy)
    where = describe_offset(*err)
    label = f"the {target}" if not spot else f"the {target} spot"
    knocked = ex.knocked({held})
    if spot:
        ok = math.hypot(err[0] - ex.args["offset"][0], err[1] - ex.args["offset"][1]) < 0.03 and _on_table(world, held)
    elif kind in ("bowl", "tray"):
        ok = _is_in(world, held, target)
    else:
        ok = _is_on(world, held, target)
    if knocked and (not ok or any(k != target for k in knocked)):
        others = [k for k in knocked if k != target] or knocked
        return ex.outcome(False, "knocked_over", f"knocked over the {others[0]}", error_xy=err)
    if ok:
        msg = f"put the {held} {'in' if kind in ('bowl', 'tray') else 'on' if kind == 'block' else 'at'} {label}"
        msg += f", {where} of its centre" if where else ", right at its centre"
        return ex.outcome(True, message=msg, error_xy=err)
    if where:
        msg = f"missed {label}: the {held} landed {where} of its centre"
    else:
        msg = f"the {held} did not go into {label}: it stayed on top, near its centre"
    return ex.outcome(False, "missed_target", msg, error_xy=err)


def _is_in(world: World, a: str, b: str) -> bool:
    return bool(world.is_in(a, b))


def _is_on(world: World, a: str, b: str) -> bool:
    return bool(world.is_on(a, b))


def _on_table(world: World, a: str) -> bool:
    return bool(world.is_on(a, "table"))


def _push(ex: _Executor) -> Outcome:
    world, robot = ex.world, ex.robot
    name = ex.args["object"]

    def geom(args: dict[str, Any]) -> tuple[tuple[float, float], float, float, float]:
        d = args["direction"]
        n = math.hypot(d[0], d[1])
        ux, uy = d[0] / n, d[1] / n
        (x, y, z), _ = world.pose(name)
        size = max(world.dims(name)[:2])
        back = size * 0.71 + 0.02
        zc = max(MIN_TCP_Z + 0.004, z - world.dims(name)[2] / 2 + 0.006 + FINGERTIP_BELOW_TCP)
        return (ux, uy), back, zc, math.atan2(uy, ux) + float(args["yaw"])

    start = {"xy": None}

    def start_pt(args: dict[str, Any]) -> tuple[tuple[float, float, float], float]:
        (ux, uy), back, zc, yaw = geom(args)
        (x, y, _), _ = world.pose(name)
        off = args["offset"]
        p = (x - back * ux + off[0], y - back * uy + off[1], zc + off[2])
        start["xy"] = p
        return p, yaw

    def end_pt(args: dict[str, Any]) -> tuple[tuple[float, float, float], float]:
        (ux, uy), back, zc, yaw = geom(args)
        sx, sy, sz = start["xy"] or ex.cmd_pos
        dist = float(args["distance"]) + 0.02
        return (sx + ux * dist, sy + uy * dist, sz), yaw

    (x0, y0, _), _ = world.pose(name)

    def alt(args: dict[str, Any]) -> float:
        return start_pt(args)[0][2] + float(args["height"])

    ex.run_phases([
        ex.gripper(0.0, None, GRIP_OPEN_S, force=20.0),
        ex.line(lambda a: ((ex.cmd_pos[0], ex.cmd_pos[1], alt(a)), ex.cmd_yaw)),
        ex.line(lambda a: ((start_pt(a)[0][0], start_pt(a)[0][1], alt(a)), start_pt(a)[1])),
        ex.line(start_pt),
    ])
    ex.run_phases([
        ex.line(end_pt),
        ex.line(lambda a: ((ex.cmd_pos[0], ex.cmd_pos[1], alt(a)), ex.cmd_yaw)),
        ex.wait(0.2, scaled=False),
    ])
    (x1, y1, _), _ = world.pose(name)
    d = ex.args["direction"]
    n = math.hypot(d[0], d[1])
    moved = ((x1 - x0) * d[0] + (y1 - y0) * d[1]) / n
    expect = (x0 + d[0] / n * ex.args["distance"], y0 + d[1] / n * ex.args["distance"])
    err = (x1 - expect[0], y1 - expect[1])
    knocked = ex.knocked({name})
    if knocked:
        return ex.outcome(False, "knocked_over", f"knocked over the {knocked[0]}", error_xy=err)
    if moved < 0.5 * float(ex.args["distance"]):
        return ex.outcome(False, "missed_target", f"the {name} moved only {100 * moved:.1f} cm", error_xy=err)
    return ex.outcome(True, message=f"pushed the {name} {100 * moved:.1f} cm", error_xy=err)


def _move_to(ex: _Executor) -> Outcome:
    world = ex.world
    target = ex.args["target"]

    def goal(args: dict[str, Any]) -> tuple[tuple[float, float, float], float]:
        cx, cy = target_centre(world, target)
        top = 0.0 if target in NAMED_SPOTS and target not in world.names() else world.top_z(target) if hasattr(world, "top_z") else 0.0
        off = args["offset"]
        return (cx + off[0], cy + off[1], top + float(args["height"]) + off[2] + FINGERTIP_BELOW_TCP), 0.0

    (gx, gy, gz), _ = goal(ex.args)
    if not _in_workspace(ex.robot, (gx, gy, gz)):
        return ex.outcome(False, "unreachable", f"could not reach above the {target}")
    yaw0 = ex.cmd_yaw

    def goal2(args: dict[str, Any]) -> tuple[tuple[float, float, float], float]:
        p, _ = goal(args)
        return p, yaw0 + float(args["yaw"])

    ex.run_phases([
        ex.line(lambda a: ((ex.cmd_pos[0], ex.cmd_pos[1], max(ex.cmd_pos[2], goal2(a)[0][2])), ex.cmd_yaw)),
        ex.line(lambda a: ((goal2(a)[0][0], goal2(a)[0][1], ex.cmd_pos[2]), goal2(a)[1])),
        ex.line(goal2),
    ])
    return ex.outcome(True, message=f"above the {target}")


def _open(ex: _Executor) -> Outcome:
    ex.run_phases([ex.gripper(float(ex.args["width"]), None, GRIP_OPEN_S)])
    return ex.outcome(True, message="opened the gripper")


def _close(ex: _Executor) -> Outcome:
    ex.run_phases([ex.gripper(0.0, "force", GRIP_CLOSE_S)])
    g = _grasped(ex.world)
    return ex.outcome(True, message=f"closed the gripper on the {g}" if g else "closed the gripper")


def _home(ex: _Executor) -> Outcome:
    ex.run_phases([
        ex.line(lambda a: ((ex.cmd_pos[0], ex.cmd_pos[1], max(ex.cmd_pos[2], HOME_TCP[2])), ex.cmd_yaw)),
        ex.line(lambda a: (HOME_TCP, 0.0)),
    ])
    return ex.outcome(True, message="back at home")


SKILL_FUNCS: dict[str, Callable[[_Executor], Outcome]] = {
    "pick": _pick, "place": _place, "push": _push, "move_to": _move_to,
    "open_gripper": _open, "close_gripper": _close, "home": _home,
}


def run_skill(call: dict[str, Any], robot: Robot, world: World, control: SkillControl | None = None) -> Outcome:
    """Validate ``call`` (raises :class:`SkillArgError` before any motion) and execute it tick by tick.

    Returns an :class:`Outcome`; with ``control``, a stop request returns within that tick
    (``Outcome(stopped=True, failure="stopped")``, the arm holding where it is) and new arguments re-plan
    the remaining motion.
    """
    valid = validate_call(call, world.names())
    _check_semantics(valid["skill"], valid["args"], world)
    if valid["skill"] == "place" and valid["args"]["target"] == _held(world):
        raise SkillArgError(f"cannot place the {valid['args']['target']} onto itself")
    ex = _Executor(valid, robot, world, control)
    try:
        return SKILL_FUNCS[valid["skill"]](ex)
    except _Stopped:
        st = robot.state()
        robot.servo(st.tcp_position, st.tcp_yaw)
        robot.hold()
        return ex.outcome(False, "stopped", "stopped", stopped=True)


def run_plan(plan: list[dict[str, Any]], robot: Robot, world: World, control: SkillControl | None = None) -> list[Outcome]:
    """Validate the whole plan first (nothing moves on a bad step), then run the steps until the first failure."""
    validate_plan(plan, world.names())
    outcomes: list[Outcome] = []
    for call in plan:
        out = run_skill(call, robot, world, control)
        outcomes.append(out)
        if not out.success:
            break
    return outcomes


__all__ = ["run_skill", "run_plan", "grasp_point", "grasp_yaw", "target_centre", "describe_offset", "SKILL_FUNCS", "GRASP_DEPTH",
           "FINGERTIP_BELOW_TCP", "MIN_TCP_Z", "HOME_TCP"]
