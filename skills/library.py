"""Running skills: the registry of skills (pick, place, push, move_to, open_gripper, close_gripper, home),
:func:`run_skill` and :func:`run_plan`. The tick engine is :mod:`skills.executor`, shared geometry
:mod:`skills.geometry`, the skills :mod:`skills.pick_place` and :mod:`skills.motion`.

``run_skill(call, robot, world, control)`` validates ``call`` (``skills.schema.validate_call`` against
``world.names()``) before any motion, then drives the robot tick by tick: each control tick it calls
``control.on_tick(tick, robot.state())``, returns within that tick when a stop is requested, and
re-plans the rest of the motion from where the arm is when ``control.replace_args`` handed it new
arguments. Every motion is a sequence of *phases* (straight Cartesian lines with a minimum-jerk profile,
gripper actions, waits); a phase computes its goal from the arguments and the world when it starts, so a
re-plan restarts the current phase from the current set-point with the new arguments.

Canonical arguments (``shared/spec/corrections.md``), robot base frame, metres / radians / newtons:

- pick: the aimed grasp point is the object's centre in xy and, in z, the TCP height that puts the
  fingertips ``skills.geometry.GRASP_DEPTH`` below the object's top; ``offset`` is added to it. ``yaw`` is added to the
  skill's own choice (``grasp_yaw``: a face of the block, its yaw folded into [-pi/4, pi/4] or a quarter turn
  from it when that gives the hand (``RobotConfig.hand_half_width``) more room from tall neighbours and rims). ``height`` is the travel / lift altitude above the grasp
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

from typing import Any, Callable

from hardware.base import Robot, RobotConfig, World
from skills import motion, pick_place
from skills.base import Outcome, SkillControl
from skills.executor import Executor, StopRequested, check_semantics
from skills.geometry import GRASP_DEPTH, describe_offset, grasp_point, grasp_yaw, target_centre
from skills.schema import SkillArgError, validate_call, validate_plan

# The Panda's defaults, for callers that plan without a robot at hand (the simulator's quirk geometry).
FINGERTIP_BELOW_TCP = RobotConfig.fingertip_below_tcp
HOME_TCP = RobotConfig.home_tcp

SKILL_FUNCS: dict[str, Callable[[Executor], Outcome]] = {
    "pick": pick_place.pick, "place": pick_place.place, "push": motion.push, "move_to": motion.move_to,
    "open_gripper": motion.open_gripper, "close_gripper": motion.close_gripper, "home": motion.home,
}


def run_skill(call: dict[str, Any], robot: Robot, world: World, control: SkillControl | None = None) -> Outcome:
    """Validate ``call`` (raises :class:`SkillArgError` before any motion) and execute it tick by tick.

    Returns an :class:`Outcome`; with ``control``, a stop request returns within that tick
    (``Outcome(stopped=True, failure="stopped")``, the arm holding where it is) and new arguments re-plan
    the remaining motion.
    """
    valid = validate_call(call, world.names())
    check_semantics(valid["skill"], valid["args"], world)
    if valid["skill"] == "place" and valid["args"]["target"] == world.held():
        raise SkillArgError(f"cannot place the {valid['args']['target']} onto itself")
    ex = Executor(valid, robot, world, control)
    try:
        return SKILL_FUNCS[valid["skill"]](ex)
    except StopRequested:
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
           "FINGERTIP_BELOW_TCP", "HOME_TCP"]
