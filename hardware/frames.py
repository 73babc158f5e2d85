"""Frame and rotation helpers shared by the vendor adapters (pure math, no SDK).

Our frame (``shared/spec/corrections.md``): the table frame, x forward, y left, z up, table top at z = 0;
metres, radians. A vendor arm reports poses in its own base frame; :class:`BaseFrame` is the arm base's
pose in our frame (a translation and a turn about z), applied once at the adapter.

Gripper-down orientations: the tool z axis points down (-z) and the fingers close along the tool y axis.
``R = Rz(arm_yaw) Rx(pi)`` is such a rotation: a half turn about the horizontal axis
``(cos(arm_yaw / 2), sin(arm_yaw / 2), 0)``, whence the closed forms of :func:`rotvec_down` (UR's axis-angle
``[rx, ry, rz]``) and :func:`quat_down` (``[x, y, z, w]``). Our ``yaw`` 0 has the fingers closing along y.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

Matrix = tuple[tuple[float, float, float], tuple[float, float, float], tuple[float, float, float]]


def wrap_half_turn(yaw: float) -> float:
    """Wrap a gripper yaw (rad) into (-pi/2, pi/2] (a parallel gripper is symmetric under a half turn)."""
    y = math.remainder(yaw, math.pi)
    return math.pi / 2 if math.isclose(y, -math.pi / 2) else y


def rotvec_down(arm_yaw: float) -> tuple[float, float, float]:
    """Axis-angle vector (rad) of the gripper-down rotation ``Rz(arm_yaw) Rx(pi)``."""
    return (math.pi * math.cos(arm_yaw / 2), math.pi * math.sin(arm_yaw / 2), 0.0)


def quat_down(arm_yaw: float) -> tuple[float, float, float, float]:
    """Quaternion ``[x, y, z, w]`` of the gripper-down rotation ``Rz(arm_yaw) Rx(pi)``."""
    return (math.cos(arm_yaw / 2), math.sin(arm_yaw / 2), 0.0, 0.0)


def matrix_from_rotvec(r: Sequence[float]) -> Matrix:
    """Rotation matrix of an axis-angle vector (rad), Rodrigues' formula."""
    th = math.sqrt(sum(float(v) * float(v) for v in r))
    if th < 1e-12:
        return ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
    x, y, z = (float(v) / th for v in r)
    c, s, C = math.cos(th), math.sin(th), 1 - math.cos(th)
    return ((c + x * x * C, x * y * C - z * s, x * z * C + y * s),
            (y * x * C + z * s, c + y * y * C, y * z * C - x * s),
            (z * x * C - y * s, z * y * C + x * s, c + z * z * C))


def matrix_from_quat(q: Sequence[float]) -> Matrix:
    """Rotation matrix of a quaternion ``[x, y, z, w]`` (normalised here)."""
    x, y, z, w = (float(v) for v in q)
    n = math.sqrt(x * x + y * y + z * z + w * w) or 1.0
    x, y, z, w = x / n, y / n, z / n, w / n
    return ((1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)),
            (2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)),
            (2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)))


def finger_yaw(R: Matrix) -> float:
    """Our yaw (rad, wrapped) of a tool rotation: the finger line (tool y axis) projected on the table."""
    ux, uy = R[0][1], R[1][1]
    return wrap_half_turn(math.atan2(-ux, uy))


def tool_down_cos(R: Matrix) -> float:
    """Cosine of the angle between the tool z axis and straight down (1: pointing down)."""
    return -R[2][2]


@dataclass(frozen=True)
class BaseFrame:
    """The arm's base frame in our table frame: origin ``xyz`` (m) and turn ``yaw`` (rad) about z."""

    xyz: tuple[float, float, float] = (0.0, 0.0, 0.0)
    yaw: float = 0.0

    def to_arm(self, p: Sequence[float]) -> tuple[float, float, float]:
        """Our point (m) -> the arm's base frame (m)."""
        dx, dy, dz = (float(a) - b for a, b in zip(p, self.xyz))
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        return (c * dx + s * dy, -s * dx + c * dy, dz)

    def from_arm(self, p: Sequence[float]) -> tuple[float, float, float]:
        """The arm's point (m) -> our table frame (m)."""
        x, y, z = (float(v) for v in p)
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        return (c * x - s * y + self.xyz[0], s * x + c * y + self.xyz[1], z + self.xyz[2])


__all__ = ["BaseFrame", "wrap_half_turn", "rotvec_down", "quat_down", "matrix_from_rotvec", "matrix_from_quat",
           "finger_yaw", "tool_down_cos"]


def limit_setpoint(position: Sequence[float], yaw: float, target: Sequence[float], target_yaw: float,
                   workspace_min: Sequence[float], workspace_max: Sequence[float], max_step: float,
                   max_dyaw: float) -> tuple[tuple[float, float, float], float, bool]:
    """The set-point a streaming driver may send next: ``position`` (m, base frame) clipped to the workspace
    box and to at most ``max_step`` m from the last ``target``; ``yaw`` (rad) taken as the half-turn equivalent
    nearest ``target_yaw`` (a parallel gripper is symmetric) and moved at most ``max_dyaw`` rad. Returns
    (position, yaw, clipped). Raises ValueError on a non-finite input."""
    if len(position) != 3 or not all(math.isfinite(float(v)) for v in position) or not math.isfinite(yaw):
        raise ValueError(f"servo needs a finite [x, y, z] (m) and yaw (rad), got {position!r}, {yaw!r}")
    want = [float(v) for v in position]
    pos = [min(max(v, lo), hi) for v, lo, hi in zip(want, workspace_min, workspace_max)]
    clipped = any(abs(a - b) > 1e-9 for a, b in zip(pos, want))
    step = math.dist(pos, target)
    if step > max_step:
        pos = [t + max_step / step * (v - t) for v, t in zip(pos, target)]
        clipped = True
    y_goal = target_yaw + math.remainder(float(yaw) - target_yaw, math.pi)
    if abs(y_goal - target_yaw) > max_dyaw + 1e-12:
        y_goal = target_yaw + math.copysign(max_dyaw, y_goal - target_yaw)
        clipped = True
    return (pos[0], pos[1], pos[2]), y_goal, clipped
