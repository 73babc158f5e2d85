"""The scene model: a tabletop as plain data (objects, their physical properties, hidden quirks).

It belongs to the lowest layer because every robot has a scene: the simulator builds one from it, a
real arm gets one from perception or from a measured file (``hardware/fixed_world.py``).

Frames and units follow ``shared/spec/corrections.md``: the robot base frame has x forward (away from
the robot, across the table), y to the robot's left, z up; the table top is at z = 0. Lengths are
metres, angles radians, masses kilograms.

A :class:`Scene` is the single source of truth for building a simulation (``sim.world``), for the
policy's view of the world (:meth:`Scene.to_contract`, the ``scene`` field of the evaluation files)
and for the teaching benchmark, which reads the :class:`Quirk` list that the policy never sees.
Scenes are JSON-serialisable and round-trip exactly (:meth:`Scene.save` / :meth:`Scene.load`).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from hardware.errors import RobocorrectError

KINDS = ("block", "bowl", "tray")
CONTAINER_KINDS = ("bowl", "tray")
COLORS: dict[str, tuple[float, float, float, float]] = {
    "red": (0.85, 0.12, 0.12, 1.0),
    "green": (0.15, 0.65, 0.2, 1.0),
    "blue": (0.15, 0.3, 0.85, 1.0),
    "yellow": (0.95, 0.85, 0.1, 1.0),
    "orange": (0.95, 0.5, 0.1, 1.0),
    "purple": (0.55, 0.2, 0.7, 1.0),
    "pink": (0.95, 0.5, 0.7, 1.0),
    "white": (0.92, 0.92, 0.92, 1.0),
    "black": (0.1, 0.1, 0.1, 1.0),
    "gray": (0.5, 0.5, 0.5, 1.0),
}
# Block edge lengths (m) by size word; the name carries the word unless it is the medium default.
BLOCK_SIZES = {"small": 0.03, "medium": 0.04, "large": 0.05}
BOWL_DIAMETER = 0.16
BOWL_HEIGHT = 0.06
TRAY_SIZE = 0.24
TRAY_HEIGHT = 0.02
WALL_T = 0.008  # container (bowl, tray) wall thickness (m)
FLOOR_T = 0.008  # container floor thickness (m)
class SceneError(RobocorrectError, ValueError):
    """A scene file or scene description that cannot be used; the message says why."""


@dataclass
class SceneObject:
    """One rigid object on the table.

    ``size`` is the block's edge length, the bowl's rim diameter or the tray's width (m).
    ``position`` is the centre of the object's bounding box in the base frame (m); ``yaw`` its
    rotation about z (rad). ``mass`` in kg; ``friction`` the lateral friction coefficient.
    ``height`` is the bounding-box height (m).
    """

    name: str
    kind: str
    color: str
    size: float
    position: tuple[float, float, float]
    yaw: float = 0.0
    mass: float = 0.1
    friction: float = 0.9
    height: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise SceneError(f"object {self.name!r}: unknown kind {self.kind!r}; known kinds: {', '.join(KINDS)}")
        if self.color not in COLORS:
            raise SceneError(f"object {self.name!r}: unknown colour {self.color!r}; known: {', '.join(COLORS)}")
        if not (0.005 <= float(self.size) <= 0.4):
            raise SceneError(f"object {self.name!r}: size {self.size} m outside [0.005, 0.4]")
        if self.mass <= 0 or self.friction <= 0:
            raise SceneError(f"object {self.name!r}: mass and friction must be positive")
        self.position = tuple(float(v) for v in self.position)  # type: ignore[assignment]
        if len(self.position) != 3:
            raise SceneError(f"object {self.name!r}: position needs 3 numbers, got {self.position}")
        if not self.height:
            self.height = {"block": self.size, "bowl": BOWL_HEIGHT, "tray": TRAY_HEIGHT}[self.kind]

    @property
    def is_container(self) -> bool:
        return self.kind in CONTAINER_KINDS

    def to_contract(self) -> dict[str, Any]:
        """The policy's view: name, kind, colour, size and position only (no physics, no quirks)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "color": self.color,
            "size": round(self.size, 4),
            "position": [round(v, 4) for v in self.position],
        }


@dataclass
class Quirk:
    """A hidden property of a scene that makes default skill parameters fail in a realistic way.

    kind:
      - ``small_grasp``: ``object`` is small; a pick needs ``offset`` z at most ``params["max_dz"]`` (m, negative).
      - ``slippery``: ``object`` slips unless pick ``force`` ≥ ``params["min_force"]`` N
        (and, when given, pick/place ``speed`` ≤ ``params["max_speed"]``).
      - ``heavy``: like ``slippery`` but through mass.
      - ``tall_neighbor``: a tall object stands near ``object``; the pick needs ``height`` ≥ ``params["min_height"]`` m.
      - ``offcenter_drop``: placing into container ``object`` works only with a place ``offset`` near
        ``params["offset"]`` ([dx, dy] m, within ``params["tol"]``).
      - ``placement_pref``: the user wants things placed in ``object`` at ``params["offset"]`` ([dx, dy] m,
        within ``params["tol"]``); physically any drop works, but the user corrects until it is there.

    The physical ones are also realised in the simulation (mass, friction, geometry); the benchmark reads
    ``params`` to know what the user will ask for. ``hidden`` quirks are never shown to the policy.
    Create them with ``sim.quirks.add_quirk`` (it sets the physics and these params together); extra params it
    records: ``small_grasp`` ``wall_height`` / ``top_width`` (the bevelled top's geometry, m),
    ``tall_neighbor`` ``neighbor`` (name of the tall block it adds). ``sim.quirks.quirk_satisfied`` and
    ``fixing_args`` read them.
    """

    kind: str
    object: str
    params: dict[str, Any] = field(default_factory=dict)
    hidden: bool = True


@dataclass
class Scene:
    """Objects on the table plus hidden quirks; a seed records how it was drawn (None if hand-made)."""

    objects: list[SceneObject]
    quirks: list[Quirk] = field(default_factory=list)
    seed: int | None = None

    def __post_init__(self) -> None:
        names = [o.name for o in self.objects]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise SceneError(f"duplicate object names: {sorted(dup)}")
        for q in self.quirks:
            if q.object not in names:
                raise SceneError(f"quirk {q.kind!r} names {q.object!r}, which is not in the scene; objects: {', '.join(names)}")

    # --- lookups -------------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [o.name for o in self.objects]

    def get(self, name: str) -> SceneObject:
        """The object called ``name``; a clear :class:`SceneError` listing what exists otherwise."""
        for o in self.objects:
            if o.name == name:
                return o
        raise SceneError(f"there is no {name}; I see: {', '.join(self.names)}")

    def quirks_for(self, name: str) -> list[Quirk]:
        return [q for q in self.quirks if q.object == name]

    # --- serialisation ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "objects": [asdict(o) for o in self.objects], "quirks": [asdict(q) for q in self.quirks]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Scene":
        """Build from :meth:`to_dict` output or from a contract ``scene`` (objects with name, kind, colour, size, position)."""
        if not isinstance(d, dict) or not isinstance(d.get("objects"), list):
            raise SceneError("a scene needs an 'objects' list")
        try:
            objs = [SceneObject(**{**o, "position": tuple(o["position"])}) for o in d["objects"]]
            quirks = [Quirk(**q) for q in d.get("quirks", [])]
        except (TypeError, KeyError) as e:
            raise SceneError(f"malformed scene object: {e}") from e
        return cls(objects=objs, quirks=quirks, seed=d.get("seed"))

    def to_contract(self) -> dict[str, Any]:
        """The scene as the policy sees it (``shared/spec/corrections.md``): no physics, no quirks."""
        return {"objects": [o.to_contract() for o in self.objects]}

    def save(self, path: str | Path) -> None:
        p = Path(path)
        tmp = p.with_suffix(p.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=1))
        tmp.replace(p)

    @classmethod
    def load(cls, path: str | Path) -> "Scene":
        try:
            d = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise SceneError(f"no scene file at {path}") from None
        except json.JSONDecodeError as e:
            raise SceneError(f"scene file {path} is not valid JSON: {e}") from None
        return cls.from_dict(d)


def block_size_word(size: float) -> str:
    """The size word ('small', 'medium', 'large') of a block with edge ``size`` (m): the nearest of :data:`BLOCK_SIZES`."""
    return min(BLOCK_SIZES, key=lambda w: abs(BLOCK_SIZES[w] - float(size)))


def object_name(color: str, kind: str, size_word: str = "medium") -> str:
    """Canonical object names: 'red block', 'small blue block', 'large red block', 'green bowl', 'gray tray'."""
    return f"{color} {kind}" if size_word == "medium" else f"{size_word} {color} {kind}"
