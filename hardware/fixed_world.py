"""A :class:`hardware.base.World` for a real arm without perception: object poses come from a
:class:`hardware.scene.Scene` file that the user measured (``Scene.load(path)``), and are updated by bookkeeping.

Frames and units (``shared/spec/corrections.md``): robot base frame, x forward, y left, z up, table top at
z = 0; metres, radians. ``SceneObject.position`` is the bounding-box centre, ``height`` its z extent.

What is held is inferred from the gripper, since nothing sees the table:

- a block is *grasped* when the measured finger opening is within ``width_tol`` of the block's size (the
  fingers stopped on it) -- or, for a gripper that reports no opening (``RobotState.gripper_measured`` False,
  e.g. a UR tool-output gripper), when it was commanded narrower than the block: assumed, not measured, so a
  missed grasp goes unnoticed there -- and the fingertips (``fingertip_below_tcp`` below the TCP) are within ``grasp_radius``
  (xy) of its centre and between its bottom and top;
- a grasped block then moves with the TCP (its offset in the hand is kept from the moment of the grasp);
  it is *held* (``held()``) once its bottom is lifted more than ``lift_min`` above where it was grasped;
- when the fingers open past the block (or close fully: it slipped), it is released where it is and comes to
  rest on what is below its centre: a block's top, a container's floor, or the table.

Nothing here moves an object that the arm pushes or knocks; re-measure the scene after such events.
"""
from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any, Optional

from hardware.base import Robot, RobotConfig, World
from hardware.scene import FLOOR_T, Scene, SceneObject



class StaticWorld(World):
    """Object poses from a measured scene; ``robot`` (optional) supplies the gripper opening and TCP pose."""

    def __init__(self, scene: Scene | str | Path, robot: Optional[Robot] = None, width_tol: float = 0.012,
                 grasp_radius: float = 0.03, fingertip_below_tcp: Optional[float] = None, lift_min: float = 0.01) -> None:
        self.scene = Scene.load(scene) if isinstance(scene, (str, Path)) else copy.deepcopy(scene)
        self.robot = robot
        self.width_tol = width_tol
        self.grasp_radius = grasp_radius
        # default: the robot's own hand geometry (RobotConfig.fingertip_below_tcp)
        self.fingertip_below_tcp = fingertip_below_tcp if fingertip_below_tcp is not None else (robot.config if robot else RobotConfig()).fingertip_below_tcp
        self.lift_min = lift_min
        self._pose: dict[str, tuple[tuple[float, float, float], float]] = {}
        self._grasped: Optional[str] = None
        self.reset()
        self._grasp_z = 0.0
        self._in_hand = (0.0, 0.0, 0.0)  # object centre minus TCP at the grasp (m)
        self._yaw_in_hand = 0.0

    def reset(self, scene: Scene | None = None) -> None:
        """Start again from ``scene`` (or the measured scene this world was made with): every object back at its
        measured pose, nothing grasped (after the table was set up again by hand)."""
        if scene is not None:
            self.scene = copy.deepcopy(scene)
        self._pose = {o.name: (tuple(o.position), float(o.yaw)) for o in self.scene.objects}  # type: ignore[misc]
        self._grasped = None

    # --- World interface ----------------------------------------------------------------------------------
    def names(self) -> list[str]:
        return self.scene.names

    def _obj(self, name: str) -> SceneObject:
        """The scene object ``name``; :class:`SceneError` "there is no ...; I see: ..." otherwise."""
        return self.scene.get(name)

    def pose(self, name: str) -> tuple[tuple[float, float, float], float]:
        """Centre (m, base frame) and yaw (rad) of ``name``: measured, or tracked with the hand while grasped."""
        self._obj(name)
        self.update()
        return self._pose[name]

    def dims(self, name: str) -> tuple[float, float, float]:
        o = self._obj(name)
        return (o.size, o.size, o.height)

    def kind(self, name: str) -> str:
        return self._obj(name).kind

    def top_z(self, name: str) -> float:
        """Height (m) of the top of ``name``."""
        return self.pose(name)[0][2] + self._obj(name).height / 2

    def held(self) -> str | None:
        """The block between the fingers and lifted off its support, or None."""
        self.update()
        if self._grasped is None:
            return None
        (_, _, z), _ = self._pose[self._grasped]
        return self._grasped if z - self._grasp_z > self.lift_min else None

    def grasped(self) -> str | None:
        """The block between the fingers (lifted or not), or None."""
        self.update()
        return self._grasped

    def is_in(self, a: str, b: str) -> bool:
        """Block ``a`` rests inside container ``b`` (bookkept: centre within the rim, not held)."""
        ob = self._obj(b)
        if not ob.is_container or self.grasped() == a:
            return False
        (ax, ay, az), _ = self.pose(a)
        (bx, by, bz), _ = self.pose(b)
        return math.hypot(ax - bx, ay - by) < ob.size / 2 and az < bz + ob.height / 2 + self._obj(a).height / 2

    def is_on(self, a: str, b: str) -> bool:
        """Block ``a`` rests on ``b`` (a block, or 'table'), bookkept, not held."""
        if self.grasped() == a:
            return False
        (ax, ay, az), _ = self.pose(a)
        ha = self._obj(a).height
        if b == "table":
            return abs(az - ha / 2) < 0.005
        ob = self._obj(b)
        (bx, by, bz), _ = self.pose(b)
        return abs(az - ha / 2 - (bz + ob.height / 2)) < 0.005 and math.hypot(ax - bx, ay - by) < ob.size / 2 + 0.005

    # --- bookkeeping ------------------------------------------------------------------------------------------
    def update(self) -> None:
        """Read the robot (when there is one) and update the grasp and the grasped block's pose."""
        if self.robot is None:
            return
        st = self.robot.state()
        w = st.gripper_width
        tx, ty, tz = st.tcp_position

        def on_block(o: SceneObject) -> bool:  # the fingers stopped on ``o`` (or, unmeasured, were told to close on it)
            return abs(w - o.size) <= self.width_tol if st.gripper_measured else w < o.size - self.width_tol

        if self._grasped is not None:
            o = self._obj(self._grasped)
            if not on_block(o):
                self._release(self._grasped)
            else:
                dx, dy, dz = self._in_hand
                self._pose[o.name] = ((tx + dx, ty + dy, tz + dz), st.tcp_yaw + self._yaw_in_hand)
                return
        tip_z = tz - self.fingertip_below_tcp
        for o in self.scene.objects:
            if o.kind != "block" or not on_block(o):
                continue
            (x, y, z), yaw = self._pose[o.name]
            if math.hypot(x - tx, y - ty) <= self.grasp_radius and z - o.height / 2 - 0.005 <= tip_z <= z + o.height / 2:
                self._grasped = o.name
                self._grasp_z = z
                self._in_hand = (x - tx, y - ty, z - tz)
                self._yaw_in_hand = yaw - st.tcp_yaw
                return

    def _release(self, name: str) -> None:
        """Let ``name`` go: it rests on what is below its centre (block top, container floor, or the table)."""
        o = self._obj(name)
        (x, y, _), yaw = self._pose[name]
        rest = 0.0
        for other in self.scene.objects:
            if other.name == name:
                continue
            (ox, oy, oz), _ = self._pose[other.name]
            if math.hypot(x - ox, y - oy) > other.size / 2:
                continue
            bottom = oz - other.height / 2
            support = bottom + FLOOR_T if other.is_container else bottom + other.height
            rest = max(rest, support)
        self._pose[name] = ((x, y, rest + o.height / 2), yaw)
        self._grasped = None

    def poses(self) -> dict[str, list[float]]:
        """name -> [x, y, z, yaw] (m, rad) of every object."""
        out = {}
        for n in self.names():
            (x, y, z), yaw = self.pose(n)
            out[n] = [x, y, z, yaw]
        return out

    def to_scene(self) -> Scene:
        """The scene with the current (bookkept) poses, e.g. to save after a session."""
        s = copy.deepcopy(self.scene)
        for o in s.objects:
            (pos, yaw) = self.pose(o.name)
            o.position, o.yaw = tuple(pos), yaw  # type: ignore[assignment]
        return s

    def describe(self) -> dict[str, Any]:
        return self.scene.to_contract()


__all__ = ["StaticWorld"]
