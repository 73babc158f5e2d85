"""What a person at the table sees, and nothing else: the only input of the simulated user (``sim.user``).

:class:`Observer` is world-side code: it holds the world and the hidden scene and turns them into frozen
:class:`Observation` values made of names, visible attributes (kind, colour, size word), positions, what the
gripper holds, where a running motion heads, and what visibly went wrong. The user is given those values and
never the observer, the world, the scene or its quirks, so reading a hidden physical parameter (friction,
mass, pocket offset, force threshold, quirk params) is impossible for it, not just avoided: no field of an
observation carries one, and ``tests/sim/test_observe.py`` walks the user's reachable objects to check that.

Frames and units: robot base frame (x forward, y left, z up), metres; yaw in radians about z (counter-clockwise
seen from above).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from hardware.scene import Scene, block_size_word as size_word

Vec3 = tuple[float, float, float]
# Relations of an object to a container or block, as a person sees them.
IN, ON, ON_RIM, NEAR, AWAY = "in", "on", "on_rim", "near", "away"
TILTED_RAD = 0.5  # an object tilted more than this (rad) is seen as knocked over


@dataclass(frozen=True)
class Seen:
    """One object as it looks: ``name``, ``kind`` (block, bowl, tray), ``color``, ``size`` (small, medium, large for
    blocks; '' for containers), ``position`` (m, base frame; the centre), ``upright`` (not tipped over), ``yaw``
    (rad, how it is turned about z; a person sees a cube's turn modulo a quarter turn)."""

    name: str
    kind: str
    color: str
    size: str
    position: Vec3
    upright: bool = True
    yaw: float = 0.0


@dataclass(frozen=True)
class Observation:
    """One look at the table.

    ``phase``: 'start', 'moving' (a step is running), 'after_step' or 'idle' (the robot waits or is done).
    ``step``: the step index the robot is on; ``skill``: what that step does, as seen ('pick', 'place', ...);
    ``object``: the object the step is about (a pick's object; for a place, the object it carried); ``picked_at``:
    the plan step that picked it up (the robot announces its plan, so a person knows which step that was);
    ``objects``: every object where it rests now; ``held``: the object in the gripper (None: nothing);
    ``heading``: while a pick or place runs, the point the gripper is heading for (m); ``heading_to``: the object
    or container it is heading for; ``heading_yaw``: while a place runs, how the carried object will be turned when
    it is put down (rad): how it hung in the gripper when the place began plus the turn the robot announced
    (the place's ``yaw``); ``event``: what visibly went wrong in the step just run ('missed_grasp',
    'slipped', 'dropped', 'knocked_over', 'missed_target', 'stopped') or None; ``step_ok``: whether that step
    visibly did what it should (after_step only); ``plan_done``: the robot has nothing left to do.
    """

    phase: str
    step: int
    skill: Optional[str]
    objects: tuple[Seen, ...]
    object: Optional[str] = None
    picked_at: Optional[int] = None
    held: Optional[str] = None
    heading: Optional[Vec3] = None
    heading_to: Optional[str] = None
    heading_yaw: Optional[float] = None
    event: Optional[str] = None
    step_ok: Optional[bool] = None
    plan_done: bool = False
    relations: tuple[tuple[str, str, str], ...] = ()

    def get(self, name: str) -> Optional[Seen]:
        return next((o for o in self.objects if o.name == name), None)

    def relation(self, obj: str, container: str) -> str:
        """How ``obj`` sits relative to ``container``: 'in', 'on' (on a tray or a block), 'on_rim' (over it but not
        in: on its rim or on something inside), 'near' (within 10 cm of its edge) or 'away'."""
        return next((r for o, c, r in self.relations if o == obj and c == container), AWAY)

    def offset_from(self, obj: str, container: str) -> Optional[tuple[float, float]]:
        """Where ``obj`` rests relative to ``container``'s centre ([dx, dy] m), as a person judges it by eye."""
        a, b = self.get(obj), self.get(container)
        if a is None or b is None:
            return None
        return a.position[0] - b.position[0], a.position[1] - b.position[1]


def _seen(o: Any, position: Sequence[float], upright: bool = True, yaw: float = 0.0) -> Seen:
    return Seen(o.name, o.kind, o.color, size_word(o.size) if o.kind == "block" else "",
                (round(float(position[0]), 4), round(float(position[1]), 4), round(float(position[2]), 4)), upright,
                round(float(yaw), 4))


def visible_scene(scene: Scene) -> tuple[Seen, ...]:
    """The scene as a person sees it before anything moves (no quirks, no mass, no friction)."""
    return tuple(_seen(o, o.position, yaw=o.yaw) for o in scene.objects)


class Observer:
    """Builds :class:`Observation` values from a world (``hardware.base.World``, e.g. ``sim.world.SimWorld``) and the
    plan the robot runs; the user gets the values, never this object."""

    def __init__(self, world: Any, scene: Scene) -> None:
        self._world = world
        self._scene = scene
        self._carry: Optional[tuple[int, str, float]] = None  # (step, object, its yaw) when the running place began

    def _objects(self) -> tuple[Seen, ...]:
        out = []
        for o in self._scene.objects:
            try:
                pos, yaw = self._world.pose(o.name)
                tilt = float(self._world.tilt(o.name)) if o.kind == "block" else 0.0
            except Exception:  # noqa: BLE001 - an object the world does not have
                continue
            out.append(_seen(o, pos, upright=tilt < TILTED_RAD, yaw=yaw))
        return tuple(out)

    def _relations(self, objects: tuple[Seen, ...]) -> tuple[tuple[str, str, str], ...]:
        w, rels = self._world, []
        by = {o.name: o for o in self._scene.objects}
        seen = {o.name: o for o in objects}
        for a in objects:
            if a.kind != "block":
                continue
            for b in objects:
                if b.name == a.name:
                    continue
                ob = by[b.name]
                d = math.hypot(a.position[0] - b.position[0], a.position[1] - b.position[1])
                if d > ob.size / 2 + 0.1:
                    continue
                r = NEAR
                over = d < ob.size / 2 and a.position[2] > seen[b.name].position[2]
                try:
                    if ob.is_container and w.is_in(a.name, b.name):
                        r = IN
                    elif (not ob.is_container or ob.kind == "tray") and w.is_on(a.name, b.name):
                        r = ON
                    elif over:
                        r = ON_RIM  # over it but not in: on its rim, or on something inside it
                except Exception:  # noqa: BLE001
                    r = ON_RIM if over else NEAR
                rels.append((a.name, b.name, r))
        return tuple(rels)

    def _heading(self, call: Optional[dict[str, Any]], held: Optional[str]) -> tuple[Optional[Vec3], Optional[str]]:
        """Where a running pick / place is visibly heading: its object or target plus the aimed offset."""
        if not call or call.get("skill") not in ("pick", "place"):
            return None, None
        a = call.get("args", {})
        name = a.get("object") if call["skill"] == "pick" else a.get("target")
        if not name or name not in self._world.names():
            return None, name
        (x, y, z), _ = self._world.pose(name)
        off = a.get("offset") or (0.0, 0.0, 0.0)
        return (round(x + float(off[0]), 4), round(y + float(off[1]), 4), round(z + float(off[2]), 4)), name

    def _heading_yaw(self, phase: str, step: int, call: Optional[dict[str, Any]], held: Optional[str],
                     objects: tuple[Seen, ...]) -> Optional[float]:
        """How the carried object will be turned when a running place puts it down (rad): its yaw at this place's
        first look (the motion has not turned yet; ``agent.bench.teach_users`` looks at its first control tick) plus
        the place's announced ``yaw``. None outside a running place."""
        if phase != "moving" or not call or call.get("skill") != "place" or not held:
            self._carry = None
            return None
        if self._carry is None or self._carry[:2] != (step, held):
            seen = next((o for o in objects if o.name == held), None)
            if seen is None:
                return None
            self._carry = (step, held, seen.yaw)
        return round(self._carry[2] + float(call.get("args", {}).get("yaw") or 0.0), 4)

    def look(self, phase: str, step: int, plan: Sequence[dict[str, Any]], outcome: Any = None, plan_done: bool = False) -> Observation:
        """One observation at ``phase`` of step ``step`` of ``plan``; ``outcome``: the just-run step's
        ``skills.base.Outcome`` (after_step), of which only its visible failure code and success are used."""
        objects = self._objects()
        try:
            held = self._world.held()
        except Exception:  # noqa: BLE001
            held = None
        call = plan[step] if 0 <= step < len(plan) else None
        about, picked_at = None, None
        if call is not None and call["skill"] == "pick":
            about, picked_at = call.get("args", {}).get("object"), step
        elif call is not None and call["skill"] == "place":
            picked_at = next((j for j in range(step - 1, -1, -1) if plan[j]["skill"] == "pick"), None)
            about = plan[picked_at].get("args", {}).get("object") if picked_at is not None else None
        heading, heading_to = self._heading(call, held) if phase == "moving" else (None, None)
        heading_yaw = self._heading_yaw(phase, step, call, held, objects)
        event = getattr(outcome, "failure", None) if outcome is not None else None
        ok = bool(getattr(outcome, "success", False)) if outcome is not None else None
        return Observation(phase=phase, step=step, skill=call["skill"] if call else None, objects=objects, object=about, picked_at=picked_at, held=held,
                           heading=heading, heading_to=heading_to, heading_yaw=heading_yaw, event=event, step_ok=ok, plan_done=plan_done,
                           relations=self._relations(objects))


__all__ = ["Observation", "Observer", "Seen", "visible_scene", "IN", "ON", "ON_RIM", "NEAR", "AWAY"]
