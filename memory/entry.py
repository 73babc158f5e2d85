"""One piece of knowledge (:class:`Entry`): what to change, when, and the evidence behind it.

An entry is a *lesson*: one argument component of one skill (``pick`` force, ``place`` offset x, ...), in one
direction, for the objects its scope covers. Learned entries carry the evidence they were learned from
(``evidence``: one item per correction that taught it, see :mod:`memory.credit`) and the objects seen to do fine
without it (``against``); :mod:`memory.scope` derives the scope (``conditions``) and the competing scope
hypotheses from those two lists. Entries written by hand or imported from an older knowledge base have no
evidence; their conditions are kept as given.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from memory.errors import KBError
from memory.knowledge import KNOWN_CONDITIONS, describe_change

SCOPES = ("skill", "task", "preference")
OPS = ("add", "scale", "set")
STATUSES = ("active", "hypothesis")
EVIDENCE_MAX = 20  # evidence items kept per entry (the newest)
AGAINST_MAX = 30  # objects-that-did-fine kept per entry (distinct attribute sets)
_STATS = ("applied", "confirmed", "contradicted", "merged")


@dataclass
class Entry:
    """One piece of knowledge.

    ``effect``: ``{"skill": "pick", "changes": [{"arg": "offset", "op": "add", "value": [0, 0, -0.015]}, ...]}``
    (offset m, yaw rad, height m as ``add``; speed, force ratios as ``scale``), or ``{"plan_op": ...}``.
    ``conditions``: when it applies (keys in ``memory.knowledge``), e.g. ``{"skill": "pick", "object_kind":
    "block", "object_size": "small"}``. ``confidence`` 0..1. ``sources``: ids of the episodes whose corrections
    taught it (never an episode where it was only applied). ``created`` / ``updated``: unix seconds. ``basis``:
    why this scope ('object', 'color', 'size', 'kind', 'everything', 'name', 'manual', or an older version's
    'target' / 'held'). ``subject``: the object it was first learned on. ``stats``: times applied / confirmed /
    contradicted / merged. ``status``: 'active', or 'hypothesis' (taught without evidence that it fixed anything:
    never applied until a second, independent instance confirms it). ``lesson``: the lesson key
    ``skill|role|component|sign`` (empty for hand-written entries). ``evidence``: what taught it (dicts with
    ``episode``, ``utterance``, ``object`` props, ``value``, ``problem``, ``weak``). ``against``: properties of
    objects the same step did fine on without it, or where it was corrected back.
    """

    text: str
    scope: str
    effect: dict[str, Any]
    conditions: dict[str, Any]
    confidence: float = 0.6
    sources: list[str] = field(default_factory=list)
    created: float = 0.0
    updated: float = 0.0
    id: Optional[int] = None
    basis: str = ""
    subject: Optional[str] = None
    stats: dict[str, int] = field(default_factory=lambda: {k: 0 for k in _STATS})
    status: str = "active"
    lesson: str = ""
    evidence: list[dict[str, Any]] = field(default_factory=list)
    against: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what policies and ``memory.knowledge.apply_knowledge`` receive)."""
        keys = ("text", "scope", "effect", "conditions", "confidence", "sources", "created", "updated", "basis", "subject",
                "stats", "status", "lesson", "evidence", "against")
        return {"id": self.id, **json.loads(json.dumps({k: getattr(self, k) for k in keys}))}

    def key(self) -> str:
        """Merge key for :meth:`memory.kb.KnowledgeBase.add` and imports: the conditions (with the effect's skill)
        and the lesson key, canonical JSON."""
        cond = {k: v for k, v in self.conditions.items() if v is not None}
        if self.effect.get("skill"):
            cond.setdefault("skill", self.effect["skill"])
        if self.effect.get("plan_op") is not None:
            cond["plan_op"] = json.dumps(self.effect["plan_op"], sort_keys=True)
        if self.lesson:
            cond["lesson"] = self.lesson
        return json.dumps(cond, sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Entry":
        """Build and validate; :class:`KBError` says which field is wrong. Fields added since version 1
        (``status``, ``lesson``, ``evidence``, ``against``) are optional."""
        if not isinstance(d, dict):
            raise KBError(f"an entry is a JSON object, got {type(d).__name__}")
        text = d.get("text")
        if not isinstance(text, str) or not text.strip():
            raise KBError("entry needs a non-empty 'text'")
        scope = d.get("scope", "skill")
        if scope not in SCOPES:
            raise KBError(f"entry scope {scope!r} is not one of {', '.join(SCOPES)}")
        effect = d.get("effect")
        if not isinstance(effect, dict):
            raise KBError("entry needs an 'effect' object")
        validate_effect(effect)
        cond = d.get("conditions", {})
        if not isinstance(cond, dict):
            raise KBError("entry 'conditions' must be an object")
        bad = sorted(set(cond) - KNOWN_CONDITIONS)
        if bad:
            raise KBError(f"unknown condition(s) {', '.join(bad)}; known: {', '.join(sorted(KNOWN_CONDITIONS))}")
        try:
            conf = float(d.get("confidence", 0.6))
        except (TypeError, ValueError):
            raise KBError(f"confidence must be a number, got {d.get('confidence')!r}") from None
        if not 0.0 <= conf <= 1.0:
            raise KBError(f"confidence {conf} is outside 0..1")
        sources = d.get("sources", [])
        if not isinstance(sources, list):
            raise KBError("'sources' must be a list of episode ids")
        stats = {k: 0 for k in _STATS}
        if isinstance(d.get("stats"), dict):
            stats.update({k: int(v) for k, v in d["stats"].items() if isinstance(v, (int, float))})
        status = d.get("status") or "active"
        if status not in STATUSES:
            raise KBError(f"entry status {status!r} is not one of {', '.join(STATUSES)}")
        lists = {}
        for name in ("evidence", "against"):
            v = d.get(name) or []
            if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
                raise KBError(f"'{name}' must be a list of objects")
            lists[name] = [dict(x) for x in v]
        now = time.time()
        return cls(text=text.strip(), scope=scope, effect=effect, conditions=dict(cond), confidence=conf,
                   sources=[str(s) for s in sources], created=float(d.get("created") or now),
                   updated=float(d.get("updated") or d.get("created") or now),
                   id=int(d["id"]) if isinstance(d.get("id"), int) else None, basis=str(d.get("basis") or ""),
                   subject=d.get("subject"), stats=stats, status=status, lesson=str(d.get("lesson") or ""),
                   evidence=lists["evidence"], against=lists["against"])


def validate_effect(effect: dict[str, Any]) -> None:
    """Check an effect against the skill schema; :class:`KBError` names what is wrong."""
    from skills.schema import SKILLS

    if "plan_op" in effect and not effect.get("changes"):
        return
    skill = effect.get("skill")
    if skill not in SKILLS:
        raise KBError(f"effect skill {skill!r} is not a known skill; skills: {', '.join(SKILLS)}")
    changes = effect.get("changes")
    if not isinstance(changes, list) or not changes:
        raise KBError("effect needs a non-empty 'changes' list")
    names = {p.name for p in SKILLS[skill].params}
    for ch in changes:
        if not isinstance(ch, dict) or ch.get("arg") not in names or ch.get("op") not in OPS:
            raise KBError(f"bad change {ch!r}: needs 'arg' in {sorted(names)} and 'op' in {list(OPS)}")
        v = ch.get("value")
        vals = v if isinstance(v, list) else [v]
        if not vals or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in vals):
            raise KBError(f"bad change value {v!r} for {ch['arg']}")


def describe_entry(subject: str, skill: str, changes: Sequence[dict[str, Any]]) -> str:
    """'small blocks: pick with offset z -1.5 cm (lower)' style text, with direction words for search."""
    parts = []
    for ch in changes:
        s = describe_change(ch)
        if ch.get("arg") == "offset" and isinstance(ch.get("value"), (list, tuple)):
            dx, dy, dz = ch["value"]
            dirs = [w for w, v in (("further" if dx > 0 else "closer", dx), ("left" if dy > 0 else "right", dy),
                                   ("higher" if dz > 0 else "lower", dz)) if abs(v) > 1e-9]
            s += f" ({', '.join(dirs)})"
        elif ch.get("op") == "scale":
            s += " (" + {("speed", True): "faster", ("speed", False): "slower", ("force", True): "firmer grip",
                         ("force", False): "gentler grip"}[(ch["arg"], float(ch["value"]) > 1)] + ")"
        parts.append(s)
    return f"{subject}: {skill} with {', '.join(parts)}"
