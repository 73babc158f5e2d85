"""The interface every quirk kind implements, and the registry of kinds.

A quirk kind is one class in one file of this package (``sim/quirk_kinds/<kind>.py``). Defining a subclass of
:class:`QuirkKind` with a ``name`` registers it (``__init_subclass__``); ``sim.quirk_kinds`` imports every
module of the package, so adding a kind means adding one file. Each kind answers, in one place:

- **physics**: :meth:`QuirkKind.realise` changes a scene copy (mass, friction, geometry, an extra object) and
  returns the quirk's ``params`` (the hidden truth: thresholds, pocket directions);
- **what fixes it**: :meth:`QuirkKind.satisfied` (does one skill call get past it), :meth:`QuirkKind.fixing_args`
  and :attr:`QuirkKind.args` (the skill arguments it legitimately changes, for the out-of-scope metric);
- **what a user sees**: :attr:`QuirkKind.symptoms` (the outcome codes a person at the table sees when it bites;
  the observing user reacts to those, never to ``params``) and :meth:`QuirkKind.violations`, what the *oracle*
  user (``--oracle``, which reads ``params``) asks for before a step runs;
- **words**: :meth:`QuirkKind.describe`.

Frames and units: robot base frame (x forward, y left, z up), metres, newtons (``shared/spec/corrections.md``).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, ClassVar, Optional, Sequence

from hardware.scene import Quirk, Scene, SceneError, SceneObject
from skills.schema import SKILLS

BLOCK = "block"
CONTAINER = "container"


@dataclass
class Violation:
    """A requirement a step breaks: ``error`` is the wanted change of ``arg`` (m along ``axis`` for offsets, N for
    force, scale for speed, m for height); ``value`` an object / target name for retargets."""

    intent: str
    arg: str
    error: float = 0.0
    axis: Optional[str] = None
    value: Optional[str] = None
    reason: str = ""


def call_args(skill: str, args: dict[str, Any]) -> dict[str, Any]:
    """``args`` completed with the skill's defaults from ``skills.schema`` (offsets as lists)."""
    base = SKILLS[skill].defaults() if skill in SKILLS else {}
    out = {**base, **{k: v for k, v in args.items() if v is not None}}
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in out.items()}


class QuirkKind:
    """One kind of hidden quirk. Subclasses set the class attributes and implement the methods marked so."""

    name: ClassVar[str] = ""
    #: what it is put on: "block" (a pick concerns it) or "container" (a place into it concerns it)
    on: ClassVar[str] = BLOCK
    #: False for a user's wish with no physics (the user knows it; the robot does not)
    physical: ClassVar[bool] = True
    #: block size words it can be realised on (blocks only)
    sizes: ClassVar[tuple[str, ...]] = ("small", "medium", "large")
    #: (skill, argument) pairs a lesson about this kind may legitimately change
    args: ClassVar[tuple[tuple[str, str], ...]] = ()
    #: outcome failure codes a person sees when the quirk bites (``skills.base.FAILURES``)
    symptoms: ClassVar[tuple[str, ...]] = ()
    #: position in the default list of kinds (lower first)
    order: ClassVar[int] = 100
    #: in play by default in the teaching benchmark
    default_on: ClassVar[bool] = True

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if cls.name:
            register(cls())

    # --- physics --------------------------------------------------------------------------------
    def check(self, o: SceneObject) -> None:
        """Raise SceneError when the kind cannot be put on ``o``."""
        if self.on == BLOCK and o.kind != "block":
            raise SceneError(f"quirk {self.name} needs a block; {o.name} is a {o.kind}")
        if self.on == CONTAINER and not o.is_container:
            raise SceneError(f"quirk {self.name} needs a bowl or tray; {o.name} is a {o.kind}")

    def draw_magnitude(self, rng: random.Random) -> dict[str, Any]:
        """Magnitudes drawn per benchmark seed (passed to :meth:`realise`); {} when the kind has none."""
        return {}

    def realise(self, scene: Scene, o: SceneObject, rng: random.Random, magnitude: dict[str, Any]) -> dict[str, Any]:
        """Change ``scene`` (a copy the caller owns) so that default arguments fail; return the params."""
        raise NotImplementedError

    # --- what fixes it --------------------------------------------------------------------------
    def concerns(self, quirk: Quirk, skill: str, args: dict[str, Any]) -> bool:
        """Whether the call ``skill(args)`` meets this quirk: a pick of its block or a place into its container."""
        if self.on == BLOCK:
            return skill == "pick" and args.get("object") == quirk.object
        return skill == "place" and args.get("target") == quirk.object

    def satisfied(self, quirk: Quirk, skill: str, args: dict[str, Any]) -> bool:
        """Whether ``skill(args)`` (defaults filled in) gets past ``quirk``; calls it does not concern pass."""
        if not self.concerns(quirk, skill, args):
            return True
        return self._ok(quirk.params, call_args(skill, args))

    def _ok(self, p: dict[str, Any], a: dict[str, Any]) -> bool:
        raise NotImplementedError

    def fixing_args(self, quirk: Quirk) -> tuple[str, dict[str, Any]]:
        """(skill, argument changes) that satisfy ``quirk`` with a margin."""
        raise NotImplementedError

    # --- what the oracle user says ---------------------------------------------------------------
    def violations(self, quirk: Quirk, skill: str, args: dict[str, Any], tolerances: Any) -> list[Violation]:
        """What the oracle user (who reads ``params``) asks for before ``skill(args)`` runs; [] when it is fine.
        ``tolerances``: the oracle's config (``margin_dz``, ``z_window``)."""
        if not self.concerns(quirk, skill, args):
            return []
        return self._violations(quirk, call_args(skill, args), tolerances)

    def _violations(self, quirk: Quirk, a: dict[str, Any], tolerances: Any) -> list[Violation]:
        raise NotImplementedError

    def carry_violations(self, quirk: Quirk, place_args: dict[str, Any]) -> list[Violation]:
        """Requirements on a place while this block is carried (e.g. a maximum speed); [] by default."""
        return []

    def wanted_offset(self, quirk: Quirk) -> Optional[list[float]]:
        """For container kinds with a spot ([dx, dy] m from the centre) the oracle user wants; None otherwise."""
        return None

    def wanted_yaw(self, quirk: Quirk) -> Optional[tuple[float, float]]:
        """For container kinds with a wished block yaw: (yaw modulo a quarter turn, tolerance), rad, base frame; None
        otherwise."""
        return None

    def describe(self, quirk: Quirk) -> str:
        """One line, in words, of what the quirk asks for (reports and logs)."""
        return f"{self.name} on {quirk.object}"


KINDS: dict[str, QuirkKind] = {}


def register(kind: QuirkKind) -> QuirkKind:
    """Add ``kind`` to the registry (a subclass with a ``name`` registers itself when defined)."""
    KINDS[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """Remove a kind (tests that define a toy kind clean up with this)."""
    KINDS.pop(name, None)


def get_kind(name: str) -> QuirkKind:
    """The registered kind ``name``; raises SceneError naming the known kinds."""
    try:
        return KINDS[name]
    except KeyError:
        raise SceneError(f"unknown quirk {name!r}; quirks: {', '.join(kind_names())}") from None


def kind_names(default_only: bool = False) -> tuple[str, ...]:
    """Registered kind names in their ``order`` (``default_only``: those in play by default)."""
    ks = sorted(KINDS.values(), key=lambda k: (k.order, k.name))
    return tuple(k.name for k in ks if k.default_on or not default_only)


def kinds_of(names: Sequence[str]) -> list[QuirkKind]:
    return [get_kind(n) for n in names]
