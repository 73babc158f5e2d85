"""The pick and place skills (canonical arguments in ``skills.schema``; the aim rules in :mod:`skills.library`'s
docstring). Each takes an :class:`skills.executor.Executor` holding the validated call and returns an Outcome."""
from __future__ import annotations

import math
from typing import Any

from skills.base import Outcome
from skills.executor import GRIP_CLOSE_S, GRIP_OPEN_S, SETTLE_AT_AIM_S, SETTLE_S, Executor
from skills.geometry import (RELEASE_ABOVE_BLOCK, RELEASE_ABOVE_CONTAINER, RELEASE_ABOVE_TABLE, describe_offset, grasp_point,
                             grasp_yaw, in_workspace, target_centre)
from skills.schema import NAMED_SPOTS, SkillArgError


def pick(ex: Executor) -> Outcome:
    world, robot = ex.world, ex.robot
    name = ex.args["object"]
    base_yaw = grasp_yaw(world, name, robot.config)

    def aim(args: dict[str, Any]) -> tuple[tuple[float, float, float], float]:
        return grasp_point(world, name, args["offset"], robot.config), base_yaw + float(args["yaw"])

    def alt(args: dict[str, Any]) -> float:
        return aim(args)[0][2] + float(args["height"])

    (ax, ay, az), _ = aim(ex.args)
    if not in_workspace(robot, (ax, ay, az)) or not in_workspace(robot, (ax, ay, alt(ex.args))):
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
    grasped_at_close = world.grasped() == name
    ex.run_phases([ex.line(lambda a: ((ex.cmd_pos[0], ex.cmd_pos[1], alt(a)), ex.cmd_yaw)), ex.wait(0.15, scaled=False)])
    held = world.held()
    knocked = ex.knocked({name})
    if knocked:
        return ex.outcome(False, "knocked_over", f"knocked over the {knocked[0]}")
    if held == name:
        return ex.outcome(True, message=f"picked up the {name}")
    if grasped_at_close or world.grasped() == name or world.pose(name)[0][2] > ex.start_poses[name][2] + 0.005:
        return ex.outcome(False, "slipped", f"the {name} slipped out of the gripper")
    return ex.outcome(False, "missed_grasp", f"missed the grasp of the {name}")


def place(ex: Executor) -> Outcome:
    world, robot = ex.world, ex.robot
    target = ex.args["target"]
    held = world.held()
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
    if not in_workspace(robot, (ax, ay, az)) or not in_workspace(robot, (ax, ay, alt(ex.args))):
        return ex.outcome(False, "unreachable", f"could not reach the {target}")
    ex.run_phases([
        ex.line(lambda a: ((ex.cmd_pos[0], ex.cmd_pos[1], max(ex.cmd_pos[2], alt(a))), ex.cmd_yaw)),
        ex.line(lambda a: ((aim(a)[0][0], aim(a)[0][1], max(ex.cmd_pos[2], alt(a))), aim(a)[1])),
        ex.line(lambda a: aim(a)),
    ])
    ex.run_phases([ex.wait(SETTLE_AT_AIM_S)])
    if world.held() != held:
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
        ok = math.hypot(err[0] - ex.args["offset"][0], err[1] - ex.args["offset"][1]) < 0.03 and world.is_on(held, "table")
    elif kind in ("bowl", "tray"):
        ok = world.is_in(held, target)
    else:
        ok = world.is_on(held, target)
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
