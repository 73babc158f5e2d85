"""Geometry the skills share: where a pick aims, which face of a block the hand takes, where things are.

Robot base frame (x forward, y left, z up), metres and radians. Hand geometry comes from the robot's
config (:class:`hardware.base.RobotConfig`: ``fingertip_below_tcp``, ``hand_half_width``,
``hand_above_tcp``), so the same skills drive any parallel-gripper arm.
"""
from __future__ import annotations

import math

from hardware.base import Robot, RobotConfig, World
from skills.schema import NAMED_SPOTS

GRASP_DEPTH = 0.012  # default: fingertips this far below the object's top (m)
TABLE_CLEARANCE = 0.002  # lowest TCP keeps the fingertips this far above the table (m)
RELEASE_ABOVE_CONTAINER = 0.01  # held object's bottom this far above a bowl / tray rim at release (m)
RELEASE_ABOVE_BLOCK = 0.006  # ... above a block's top (m)
RELEASE_ABOVE_TABLE = 0.004  # ... above the table at a named spot (m)


def min_tcp_z(hand: RobotConfig) -> float:
    """Lowest TCP height (m): the fingertips :data:`TABLE_CLEARANCE` above the table."""
    return hand.fingertip_below_tcp + TABLE_CLEARANCE


def fold_quarter(yaw: float) -> float:
    """Fold a block's yaw into [-pi/4, pi/4] (a cube looks the same every quarter turn)."""
    return math.remainder(yaw, math.pi / 2)


def in_workspace(robot: Robot, p: tuple[float, float, float]) -> bool:
    """Whether TCP position ``p`` (m) lies in the robot's workspace box."""
    lo, hi = robot.config.workspace_min, robot.config.workspace_max
    return all(a - 1e-9 <= v <= b + 1e-9 for v, a, b in zip(p, lo, hi))


def target_centre(world: World, target: str) -> tuple[float, float]:
    """Centre xy (m, base frame) of a scene object or a named spot."""
    if target in NAMED_SPOTS:
        return NAMED_SPOTS[target]
    (x, y, _), _ = world.pose(target)
    return x, y


def grasp_point(world: World, name: str, offset: list[float], hand: RobotConfig) -> tuple[float, float, float]:
    """TCP position (m, base frame) of the pick aimed at ``name`` with ``offset`` (m), for ``hand``'s fingertips."""
    (x, y, z), _ = world.pose(name)
    h = world.dims(name)[2]
    top = z + h / 2
    gz = top - GRASP_DEPTH + hand.fingertip_below_tcp + offset[2]
    return x + offset[0], y + offset[1], max(gz, min_tcp_z(hand))


def grasp_yaw(world: World, name: str, hand: RobotConfig) -> float:
    """The pick's own yaw choice for block ``name``: one of its faces (a cube looks the same every quarter turn),
    the one that keeps the hand's wide side (along the fingers) farthest from tall things around it; the
    face nearest to yaw 0 when both are clear."""
    (x, y, z), yaw = world.pose(name)
    g = fold_quarter(yaw)
    hand_z = z + world.dims(name)[2] / 2 - GRASP_DEPTH + hand.fingertip_below_tcp + hand.hand_above_tcp
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
            t = max(-hand.hand_half_width, min(hand.hand_half_width, (ox - x) * ux + (oy - y) * uy))
            best = min(best, math.hypot(ox - (x + t * ux), oy - (y + t * uy)) - r)
        return best

    cands = sorted((g, math.remainder(g + math.pi / 2, math.pi)), key=abs)
    c0, c1 = clearance(cands[0]), clearance(cands[1])
    return cands[1] if c1 > c0 + 0.01 and c0 < 0.06 else cands[0]


def describe_offset(dx: float, dy: float) -> str:
    """'3.0 cm left and 1.2 cm forward' style description of an xy offset (base frame, m), read with "... of X"."""
    parts = []
    if abs(dy) >= 0.005:
        parts.append(f"{100 * abs(dy):.1f} cm {'left' if dy > 0 else 'right'}")
    if abs(dx) >= 0.005:
        parts.append(f"{100 * abs(dx):.1f} cm {'forward' if dx > 0 else 'back'}")
    return " and ".join(parts)
