"""The other skills: push, move_to, open_gripper, close_gripper, home. Robot base frame, metres, radians."""
from __future__ import annotations

import math
from typing import Any

from skills.base import Outcome
from skills.executor import GRIP_CLOSE_S, GRIP_OPEN_S, Executor
from skills.geometry import in_workspace, min_tcp_z, target_centre
from skills.schema import NAMED_SPOTS


def push(ex: Executor) -> Outcome:
    world, robot = ex.world, ex.robot
    name = ex.args["object"]

    def geom(args: dict[str, Any]) -> tuple[tuple[float, float], float, float, float]:
        d = args["direction"]
        n = math.hypot(d[0], d[1])
        ux, uy = d[0] / n, d[1] / n
        (x, y, z), _ = world.pose(name)
        size = max(world.dims(name)[:2])
        back = size * 0.71 + 0.02
        zc = max(min_tcp_z(robot.config) + 0.004, z - world.dims(name)[2] / 2 + 0.006 + robot.config.fingertip_below_tcp)
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


def move_to(ex: Executor) -> Outcome:
    world = ex.world
    target = ex.args["target"]

    def goal(args: dict[str, Any]) -> tuple[tuple[float, float, float], float]:
        cx, cy = target_centre(world, target)
        top = 0.0 if target in NAMED_SPOTS and target not in world.names() else world.top_z(target)
        off = args["offset"]
        return (cx + off[0], cy + off[1], top + float(args["height"]) + off[2] + ex.robot.config.fingertip_below_tcp), 0.0

    (gx, gy, gz), _ = goal(ex.args)
    if not in_workspace(ex.robot, (gx, gy, gz)):
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


def open_gripper(ex: Executor) -> Outcome:
    ex.run_phases([ex.gripper(float(ex.args["width"]), None, GRIP_OPEN_S)])
    return ex.outcome(True, message="opened the gripper")


def close_gripper(ex: Executor) -> Outcome:
    ex.run_phases([ex.gripper(0.0, "force", GRIP_CLOSE_S)])
    g = ex.world.grasped()
    return ex.outcome(True, message=f"closed the gripper on the {g}" if g else "closed the gripper")


def home(ex: Executor) -> Outcome:
    ex.run_phases([
        ex.line(lambda a: ((ex.cmd_pos[0], ex.cmd_pos[1], max(ex.cmd_pos[2], ex.robot.config.home_tcp[2])), ex.cmd_yaw)),
        ex.line(lambda a: (ex.robot.config.home_tcp, 0.0)),
    ])
    return ex.outcome(True, message="back at home")
