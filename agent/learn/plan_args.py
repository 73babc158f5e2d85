"""Plan arguments learned from the logs: the arguments that worked, tied to what the policy sees.

A successful episode shows which arguments each step of its final plan needed (the hindsight label of a plan):
"the large yellow block was picked with 35 N", "the place into the red bowl went 4 cm back". Across episodes
those become rules over the *visible* attributes of the object a step acts on (``kind``, ``color``, ``size``:
blocks only, small / medium / large) and the skill, which :class:`PlanArgs` applies when the embedded policy
plans (``agent.grounder.policy``, when the checkpoint folder holds :data:`FILE`). Memory (``memory/``) is not
used or imported: this is part of the policy checkpoint that ``robocorrect retrain`` writes and the gate judges.

**Evidence** (:func:`argument_examples`): per successful episode, per step of its final plan and per argument
(offset, yaw, speed, force, height): the value that worked and the looks of the step's *role* object: a pick's
``object``; a place's ``target`` for where and how it is put (offset, yaw, height); the ``held`` object (the
block the pick before it took) for how it is carried (speed). A value at the skill's default is evidence
*against* any rule covering those looks (that step worked without one). Only the first place into a container in
an episode counts for the target's arguments (a second block goes beside the first, not at the same spot).

**Rules** (:func:`learn`), per (skill, argument), C3PO-style:

- the evidence of one look (all attributes equal) must agree: at least 2/3 of its values within tolerance
  (offsets 1.5 cm, yaw 0.2 rad, speed / force / height the same direction and within x1.6); else no rule;
- two looks with agreeing values are merged into the attributes they share only when they differ in exactly
  ONE attribute (a force seen on large yellow and small purple blocks says nothing about "blocks"), and never
  when the wider scope would cover a look that worked at the default or holds another value;
- a rule needs repeated evidence: ``min_support`` agreeing values from ``min_episodes`` episodes, and no
  evidence against inside its scope;
- the scope is the narrowest the evidence supports: the attributes all its evidence shares.

Applying (:meth:`PlanArgs.apply`): each step takes the value of the narrowest rule that covers its role object
(none when two equally narrow rules disagree). Values are absolute (a policy's plan holds the defaults);
offsets are metres in the robot base frame (x forward, y left, z up), yaw radians, force newtons, speed a
scale, height metres.
"""
from __future__ import annotations

import json
import math
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from hardware.scene import block_size_word
from skills.schema import SKILLS

FILE = "plan_args.json"
ARGS = ("offset", "yaw", "speed", "force", "height")
ATTRS = ("kind", "color", "size")
# Which object's looks an argument of a step depends on (module docstring).
ROLE = {**{("pick", a): "object" for a in ARGS},
        ("place", "offset"): "target", ("place", "yaw"): "target", ("place", "height"): "target", ("place", "speed"): "held"}
OFFSET_TOL = 0.015  # m: offsets that agree
YAW_TOL = 0.2  # rad
RATIO_TOL = 1.6  # speed / force / height values that agree: same direction from the default, within this factor
DEFAULT_EPS = {"offset": 0.002, "yaw": 0.02, "ratio": 0.02}  # the contract's "unchanged" tolerances


@dataclass(frozen=True)
class ArgExample:
    """One step's argument in a successful episode: ``value`` worked for ``skill`` on an object that looks like
    ``looks`` (its role: ``object``, ``target`` or ``held``); ``default``: the value was the skill's default."""

    skill: str
    arg: str
    role: str
    looks: tuple[tuple[str, str], ...]
    value: Any
    default: bool
    episode: str
    step: int = -1

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "looks": dict(self.looks)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ArgExample":
        v = d["value"]
        return cls(d["skill"], d["arg"], d["role"], tuple(sorted(d["looks"].items())), list(v) if isinstance(v, list) else v,
                   bool(d["default"]), str(d.get("episode", "")), int(d.get("step", -1)))


@dataclass
class ArgRule:
    """``skill``'s ``arg`` takes ``value`` when its ``role`` object has every attribute of ``scope``."""

    skill: str
    arg: str
    role: str
    scope: dict[str, str]
    value: Any
    support: int
    episodes: list[str] = field(default_factory=list)

    def covers(self, looks: dict[str, str]) -> bool:
        return all(looks.get(k) == v for k, v in self.scope.items())

    def words(self) -> str:
        s = self.scope
        what = " ".join(x for x in (s.get("size"), s.get("color"), s.get("kind", "object")) if x)
        val = (f"[{', '.join(f'{x:+.3f}' for x in self.value)}] m" if self.arg == "offset" else f"{self.value:g}"
               + {"force": " N", "height": " m", "yaw": " rad", "speed": "x"}.get(self.arg, ""))
        return f"{self.skill} {self.arg} {val} for {what}s ({self.role}; {self.support} times in {len(self.episodes)} episodes)"


@dataclass(frozen=True)
class PlanArgConfig:
    """``min_support``: agreeing values a rule needs; ``min_episodes``: from this many episodes; ``max_against``:
    evidence against (worked at the default) a rule's scope may hold; ``agree``: share of one look's values that
    must agree."""

    min_support: int = 2
    min_episodes: int = 2
    max_against: int = 0
    agree: float = 2 / 3


def looks_of(obj: Optional[dict[str, Any]]) -> Optional[dict[str, str]]:
    """The visible attributes of a contract object: kind, colour, and for blocks the size word."""
    if not obj or not obj.get("kind"):
        return None
    out = {"kind": str(obj["kind"])}
    if obj.get("color"):
        out["color"] = str(obj["color"])
    if obj["kind"] == "block" and obj.get("size") is not None:
        out["size"] = block_size_word(float(obj["size"]))
    return out


def default_of(skill: str, arg: str) -> Any:
    v = SKILLS[skill].defaults().get(arg)
    return list(v) if isinstance(v, (list, tuple)) else v


def is_default(arg: str, value: Any, default: Any) -> bool:
    if arg == "offset":
        return all(abs(float(a) - float(b)) <= DEFAULT_EPS["offset"] for a, b in zip(value, default))
    if arg == "yaw":
        return abs(float(value) - float(default)) <= DEFAULT_EPS["yaw"]
    return abs(float(value) - float(default)) <= DEFAULT_EPS["ratio"] * max(abs(float(default)), 1e-9)


def agree(arg: str, a: Any, b: Any, default: Any) -> bool:
    """Whether two values that worked say the same thing (tolerances in the module docstring)."""
    if arg == "offset":
        return math.dist([float(x) for x in a], [float(x) for x in b]) <= OFFSET_TOL
    if arg == "yaw":
        return abs(float(a) - float(b)) <= YAW_TOL
    d = float(default)
    a, b = float(a), float(b)
    if (a - d) * (b - d) <= 0 or a <= 0 or b <= 0:
        return False
    return abs(math.log(a / b)) <= math.log(RATIO_TOL)


def centre(arg: str, values: Sequence[Any]) -> Any:
    """The value a rule applies: the per-axis median (offsets) or the median."""
    if arg == "offset":
        return [round(statistics.median(float(v[i]) for v in values), 4) for i in range(3)]
    return round(statistics.median(float(v) for v in values), 4)


def _roles(plan: Sequence[dict[str, Any]], objs: dict[str, dict[str, Any]]) -> list[dict[str, Optional[dict[str, str]]]]:
    """Per step: role -> looks of that object (None when it is not a scene object); a place's ``target`` only for
    the first place into that target in the plan."""
    out: list[dict[str, Optional[dict[str, str]]]] = []
    held: Optional[str] = None
    placed: set[str] = set()
    for call in plan:
        a = call.get("args") or {}
        roles: dict[str, Optional[dict[str, str]]] = {}
        if call.get("skill") == "pick":
            held = a.get("object")
            roles["object"] = looks_of(objs.get(str(held)))
        elif call.get("skill") == "place":
            t = a.get("target")
            roles["target"] = looks_of(objs.get(str(t))) if t not in placed else None
            roles["held"] = looks_of(objs.get(str(held)))
            placed.add(str(t))
        out.append(roles)
    return out


def _value(call: Optional[dict[str, Any]], skill: str, arg: str) -> Any:
    d = default_of(skill, arg)
    v = ((call or {}).get("args") or {}).get(arg)
    return d if v is None else (list(v) if isinstance(v, (list, tuple)) else v)


def _runs(rec: dict[str, Any], i: int) -> list[dict[str, Any]]:
    """The runs of step ``i`` in time order: {"args", "success"}."""
    out = []
    for s in sorted(rec.get("steps") or [], key=lambda s: s.get("t", 0.0)):
        if s.get("index") == i:
            o = s.get("outcome") or {}
            out.append({"args": o.get("args") or (s.get("call") or {}).get("args") or {}, "success": bool(o.get("success"))})
    return out


def _worked(rec: dict[str, Any], i: int, skill: str, arg: str, value: Any, given: Any) -> Optional[bool]:
    """Whether a step's final ``value`` of ``arg`` is evidence: True (a correction set it, and the first run with it,
    after which it stayed, succeeded), False (the default, and the step's last run succeeded with it), None (no
    evidence: the value came with the plan, ``given``, or no run with it succeeded)."""
    d = default_of(skill, arg)
    runs = _runs(rec, i)
    if not runs or not runs[-1]["success"]:
        return None
    if is_default(arg, value, d):
        return False if is_default(arg, _value(runs[-1], skill, arg), d) else None
    if is_default(arg, value, given):
        return None  # the plan came with it (knowledge or a learned argument): it worked, nothing shows it was needed
    k = len(runs)
    while k > 0 and is_default(arg, _value(runs[k - 1], skill, arg), value):
        k -= 1
    return True if k < len(runs) and runs[k]["success"] else None


def argument_examples(rec: dict[str, Any]) -> list[ArgExample]:
    """The arguments that worked in one logged episode (``memory.episodes`` record), none unless it succeeded:
    per step of the final plan and argument, the value that a correction set and the step then ran with
    successfully (its first run with that value), or the default the step worked with (evidence against).
    Values the plan came with and nobody changed, and changes after which the step failed again (a firmer grip that
    did not stop the slipping, before a lower grasp did), are no evidence. Only the contract view of the scene is
    read (never its hidden quirks)."""
    if rec.get("success") is not True:
        return []
    plan = rec.get("final_plan") or []
    first = rec.get("initial_plan") or []
    same = [c.get("skill") for c in first] == [c.get("skill") for c in plan]
    objs = {o.get("name"): o for o in ((rec.get("scene") or {}).get("objects") or [])}
    out: list[ArgExample] = []
    for i, (call, roles) in enumerate(zip(plan, _roles(plan, objs))):
        skill = call.get("skill")
        for arg in ARGS:
            role = ROLE.get((skill, arg))
            looks = roles.get(role) if role else None
            if looks is None:
                continue
            v = _value(call, skill, arg)
            ok = _worked(rec, i, skill, arg, v, _value(first[i] if same else None, skill, arg))
            if ok is None:
                continue
            out.append(ArgExample(skill, arg, role, tuple(sorted(looks.items())), v, not ok, str(rec.get("id", "")), i))
    return out


def _consistent(arg: str, values: list[Any], default: Any, share: float) -> Optional[list[int]]:
    """Indices of the largest set of ``values`` agreeing with one of them, if it holds at least ``share`` of all."""
    best: list[int] = []
    for v in values:
        near = [j for j, w in enumerate(values) if agree(arg, v, w, default)]
        if len(near) > len(best):
            best = near
    return best if values and len(best) >= share * len(values) - 1e-9 else None


def _covers(scope: dict[str, str], looks: dict[str, str]) -> bool:
    return all(looks.get(k) == v for k, v in scope.items())


def learn_rules(examples: Iterable[ArgExample], cfg: PlanArgConfig = PlanArgConfig()) -> list[ArgRule]:
    """Rules from argument evidence (module docstring), sorted by skill, argument and scope."""
    by_arg: dict[tuple[str, str, str], list[ArgExample]] = {}
    for ex in examples:
        by_arg.setdefault((ex.skill, ex.arg, ex.role), []).append(ex)
    rules: list[ArgRule] = []
    for (skill, arg, role), exs in sorted(by_arg.items()):
        d = default_of(skill, arg)
        against = [dict(e.looks) for e in exs if e.default]
        groups: dict[tuple, list[ArgExample]] = {}
        for e in exs:
            if not e.default:
                groups.setdefault(e.looks, []).append(e)
        # one cluster per look whose values agree: (scope, members); a look that disagrees with itself blocks
        clusters: list[tuple[dict[str, str], list[ArgExample]]] = []
        blocked: list[dict[str, str]] = list(against)
        for look, members in groups.items():
            idx = _consistent(arg, [m.value for m in members], d, cfg.agree)
            if idx is None:
                blocked.append(dict(look))
                continue
            clusters.append((dict(look), [members[i] for i in idx]))
        merged = True
        while merged:
            merged = False
            for i in range(len(clusters)):
                for j in range(i + 1, len(clusters)):
                    (si, mi), (sj, mj) = clusters[i], clusters[j]
                    diff = [k for k in set(si) | set(sj) if si.get(k) != sj.get(k)]
                    if len(diff) != 1 or not agree(arg, centre(arg, [m.value for m in mi]), centre(arg, [m.value for m in mj]), d):
                        continue
                    wide = {k: v for k, v in si.items() if k not in diff}
                    others = [s for n, (s, _) in enumerate(clusters) if n not in (i, j) and _covers(wide, s)]
                    if "kind" not in wide or any(_covers(wide, b) for b in blocked) or others:
                        continue
                    clusters[i] = (wide, mi + mj)
                    del clusters[j]
                    merged = True
                    break
                if merged:
                    break
        for scope, members in clusters:
            eps = sorted({m.episode for m in members})
            n_against = sum(1 for b in blocked if _covers(scope, b))
            if len(members) < cfg.min_support or len(eps) < cfg.min_episodes or n_against > cfg.max_against:
                continue
            rules.append(ArgRule(skill, arg, role, scope, centre(arg, [m.value for m in members]), len(members), eps))
    return sorted(rules, key=lambda r: (r.skill, r.arg, sorted(r.scope.items())))


class PlanArgs:
    """The learned plan arguments of a checkpoint: the rules and the evidence they came from (kept, so that the
    next retraining round learns from the old evidence and the new together)."""

    def __init__(self, rules: Sequence[ArgRule] = (), evidence: Sequence[ArgExample] = (), config: PlanArgConfig = PlanArgConfig()) -> None:
        self.rules = list(rules)
        self.evidence = list(evidence)
        self.config = config

    @classmethod
    def learn(cls, records: Iterable[dict[str, Any]], base: Optional["PlanArgs"] = None,
              config: PlanArgConfig = PlanArgConfig()) -> "PlanArgs":
        """Rules from the episodes ``records`` plus the evidence of ``base`` (a previous checkpoint's)."""
        seen = {e.episode for e in (base.evidence if base else [])}
        ev = list(base.evidence if base else [])
        for r in records:
            if str(r.get("id", "")) not in seen:
                ev.extend(argument_examples(r))
        return cls(learn_rules(ev, config), ev, config)

    @classmethod
    def load(cls, folder: str | Path) -> Optional["PlanArgs"]:
        """The plan arguments of checkpoint ``folder``; None when it has none (no :data:`FILE`)."""
        p = Path(folder) / FILE
        if not p.is_file():
            return None
        d = json.loads(p.read_text())
        rules = [ArgRule(**{**r, "scope": dict(r["scope"])}) for r in d.get("rules", [])]
        return cls(rules, [ArgExample.from_dict(e) for e in d.get("evidence", [])], PlanArgConfig(**d.get("config", {})))

    def save(self, folder: str | Path) -> Path:
        p = Path(folder) / FILE
        p.write_text(json.dumps({"rules": [asdict(r) for r in self.rules], "config": asdict(self.config),
                                 "evidence": [e.to_dict() for e in self.evidence]}, indent=1))
        return p

    def predict(self, plan: Sequence[dict[str, Any]], objs: Sequence[dict[str, Any]]) -> dict[tuple[int, str], ArgRule]:
        """(step, argument) -> the rule that sets it: per step and argument the narrowest covering rule; none when
        two equally narrow ones disagree."""
        by_name = {o.get("name"): o for o in objs}
        out: dict[tuple[int, str], ArgRule] = {}
        for i, (call, roles) in enumerate(zip(plan, _roles(plan, by_name))):
            for arg in ARGS:
                role = ROLE.get((call.get("skill"), arg))
                looks = roles.get(role) if role else None
                if looks is None:
                    continue
                hits = [r for r in self.rules if r.skill == call.get("skill") and r.arg == arg and r.covers(looks)]
                if not hits:
                    continue
                top = max(len(r.scope) for r in hits)
                best = [r for r in hits if len(r.scope) == top]
                d = default_of(call["skill"], arg)
                if all(agree(arg, best[0].value, r.value, d) for r in best[1:]):
                    out[(i, arg)] = best[0]
        return out

    def apply(self, plan: Sequence[dict[str, Any]], objs: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
        """A copy of ``plan`` with the learned arguments set, and one note per change."""
        new = [{"skill": c["skill"], "args": dict(c.get("args") or {})} for c in plan]
        notes = []
        for (i, arg), r in sorted(self.predict(plan, objs).items()):
            new[i]["args"][arg] = list(r.value) if isinstance(r.value, list) else r.value
            notes.append(f"step {i}: {r.words()}")
        return new, notes

    def summary(self) -> dict[str, Any]:
        return {"rules": [r.words() for r in self.rules], "evidence": len(self.evidence),
                "episodes": len({e.episode for e in self.evidence})}


def compare(active: Optional[PlanArgs], candidate: Optional[PlanArgs], records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The gate's plan-argument check on held-out episodes: per step and argument of each successful episode's
    final plan, an answer is right when no rule fires and the value that worked was the default, or a rule fires
    with a value that agrees with it. ``flips``: answers the active checkpoint had right and the candidate not;
    ``fired_out_of_scope``: the candidate set an argument where the default worked."""
    n = prev = flips = fixed = oos = fired = 0
    for rec in records:
        exs = argument_examples(rec)
        if not exs:
            continue
        plan = rec.get("final_plan") or []
        objs = (rec.get("scene") or {}).get("objects") or []
        bare = [{"skill": c["skill"], "args": {k: v for k, v in (c.get("args") or {}).items() if k in ("object", "target")}} for c in plan]
        pa = active.predict(bare, objs) if active else {}
        pc = candidate.predict(bare, objs) if candidate else {}
        for ex in exs:
            n += 1
            i = ex.step
            ra, rc = _right(pa, ex), _right(pc, ex)
            prev += ra
            flips += ra and not rc
            fixed += rc and not ra
            fired += (i, ex.arg) in pc
            oos += (i, ex.arg) in pc and ex.default
    return {"answers": n, "previously_right": prev, "flips": flips, "fixed": fixed, "fired": fired,
            "fired_out_of_scope": oos, "flip_rate": round(flips / prev, 4) if prev else 0.0}


def _right(pred: dict[tuple[int, str], ArgRule], ex: ArgExample) -> bool:
    """Whether a prediction answers one logged argument right (see :func:`compare`)."""
    r = pred.get((ex.step, ex.arg))
    return ex.default if r is None else (not ex.default and agree(ex.arg, r.value, ex.value, default_of(ex.skill, ex.arg)))
