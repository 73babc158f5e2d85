"""Credit assignment: which part of which correction fixed something, read from one episode record.

A lesson comes only from a correction that answered an observed problem — a failure of the step, or the user's
objection (a correction is the user objecting) — and after which that step's next run succeeded (a correction
followed by another failure is no evidence, even if a later correction made the step work). Every correction is
split into *components* (``offset.x``, ``offset.y``, ``offset.z``, ``yaw``, ``height``, ``speed``, ``force``)
and each changed component is judged on its own:

1. the user's words: direction and manner words name component families (``left`` → y; ``lower`` → vertical;
   ``harder`` → force; "clamp down" is one force idiom, not a direction). "More", "again", "too far" repeat the
   previous correction's families on that step. When the words name some changed family, exactly those
   components are credited; the other changed components are the grounder's additions and are dropped; a
   sideways move named after a grip failure (slipped, dropped) is only a hypothesis (nothing shows it fixed a grip);
2. otherwise the failure that came before (``missed_grasp`` → geometry, ``dropped`` / ``slipped`` → force and
   speed, ...) credits the components it can explain, and drops the rest;
3. otherwise a correction that changed one component is credited (the step then worked), and one that changed
   several, with nothing telling them apart, yields *weak* parts: hypotheses that need a second, independent
   instance before they are applied.

A place into a container that an earlier place of the same episode already filled teaches no geometry
(:func:`shares_target`): "put it 4 cm further" there is about the block already lying at the spot, not the container.

A credited component's value is the step's net change over the episode (final plan minus the plan before
knowledge), so "left, left, right" teaches one small left and knowledge that was applied and then extended is
learned at its new size. Knowledge that was applied and left alone is never evidence here: with no correction
of that component there is nothing to credit. Components a step ran fine without (no correction, no knowledge)
are reported as ``fine``: counterexamples that keep other lessons from widening over that object.

Only public scene fields (name, kind, colour, size) are read; hidden quirks never are.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from memory.knowledge import object_props, scene_objects
from skills.schema import SKILLS

COMPONENTS = ("offset.x", "offset.y", "offset.z", "yaw", "height", "speed", "force")
FAMILY = {"offset.x": "x", "offset.y": "y", "offset.z": "vertical", "height": "vertical", "yaw": "yaw", "speed": "speed",
          "force": "force"}
GEOMETRY = ("offset.x", "offset.y", "offset.z", "yaw", "height")
# Changes smaller than these are noise, not knowledge (the contract's "stays as it was" tolerances).
TOL = {"offset.x": 0.002, "offset.y": 0.002, "offset.z": 0.002, "yaw": 0.02, "height": 0.005, "speed": math.log(1.02),
       "force": math.log(1.02)}
# What a failure can be fixed by (families).
FAILURE_FAMILIES = {
    "missed_grasp": {"x", "y", "vertical", "yaw"},
    "nothing_held": {"x", "y", "vertical", "yaw", "force"},
    "dropped": {"force", "speed"},
    "slipped": {"force", "speed"},
    "knocked_over": {"x", "y", "vertical", "speed"},
    "collision": {"x", "y", "vertical", "speed"},
    "missed_target": {"x", "y"},
    "unreachable": {"x", "y", "vertical"},
}
GRIP_FAILURES = ("dropped", "slipped")  # what a lost grip looks like; lowering can fix it (a bevelled block), aiming sideways not
# Word cues, longest first; a matched phrase is consumed so its words cue nothing else ("slow down" is speed,
# not vertical). Written from the correction contract's vocabulary and plain English, never from an eval file.
_CUES: list[tuple[str, set[str]]] = [
    (r"clamp(s|ed|ing)? down|bear down|hold (it |on )?(tight|tighter|firmly)|grip (it )?(hard|harder|tight|tighter|firm|firmer)", {"force"}),
    (r"slow(ly)? down|speed (it )?up|pick(s|ing)? up (the )?(pace|speed)|hurry( up)?|take (it|your time) (slow|easy)|ease (up|off)", {"speed"}),
    (r"tighten( up)?|loosen( up)?|let up", {"force"}),
    (r"toward(s)? (me|you|us|the robot)|away from (me|you|us|the robot)|in front|far side|near side", {"x"}),
    (r"from above|approach|clearance|come in (higher|lower)|higher up|lower down", {"vertical"}),
    (r"harder|firmer|firmly|tighter|tightly|tight|squeeze\w*|clamp\w*|force|pressure|stronger|strongly|gentler|softer|"
     r"softly|looser|lighter|crush\w*|grip(ping)? strength", {"force"}),
    (r"gently|gentle|careful(ly)?", {"force", "speed"}),
    (r"slower|slowly|slow|faster|fast|quicker|quickly|quick|speed|rush\w*|pace|hurry", {"speed"}),
    (r"rotat\w*|turn\w*|twist\w*|angle\w*|degrees?|yaw|clockwise|counter-?clockwise|anti-?clockwise|orient\w*|spin\w*", {"yaw"}),
    (r"left(wards?)?|right(wards?)?|sideways", {"y"}),
    (r"forwards?|backwards?|back|closer|nearer|away|behind|front", {"x"}),
    (r"up|upwards?|down|downwards?|lower|higher|high|low|raise\w*|lift\w*|deeper|deep|below|above|top|bottom|height|taller|sink", {"vertical"}),
]
_FURTHER = r"further|farther"  # x on its own, an intensifier next to another direction ("further left")
_RELATIVE = re.compile(r"\b(more|again|keep going|too (far|much)|less|overshot|even more|same again|other way|opposite|"
                       r"not so (much|far)|a bit (more|less)|back a (bit|little|touch))\b")


def families(utterance: str) -> set[str]:
    """Component families the words name: 'x', 'y', 'vertical', 'yaw', 'speed', 'force' (empty if none)."""
    t = " " + re.sub(r"[^a-z0-9' -]", " ", (utterance or "").lower()) + " "
    out: set[str] = set()
    for rx, fams in _CUES:
        pat = re.compile(r"(?<![a-z])(" + rx + r")(?![a-z])")
        if pat.search(t):
            out |= fams
            t = pat.sub(" ", t)
    if re.search(r"(?<![a-z])(" + _FURTHER + r")(?![a-z])", t) and not out & {"y", "vertical"}:
        out.add("x")
    return out


def is_relative(utterance: str) -> bool:
    """'more', 'again', 'too far', ...: the utterance refers to the previous correction."""
    return bool(_RELATIVE.search((utterance or "").lower()))


def component_deltas(skill: str, before: dict[str, Any], after: dict[str, Any]) -> dict[str, float]:
    """Per component, ``after - before`` (defaults filled): metres / radians, log-ratio for speed and force."""
    spec = SKILLS.get(skill)
    if spec is None:
        return {}
    d = spec.defaults()
    b, a = {**d, **(before or {})}, {**d, **(after or {})}
    names = {p.name for p in spec.params}
    out: dict[str, float] = {}
    if "offset" in names:
        ob, oa = list(b.get("offset") or [0, 0, 0]), list(a.get("offset") or [0, 0, 0])
        for ax, x, y in zip("xyz", ob, oa):
            out[f"offset.{ax}"] = float(y) - float(x)
    for arg in ("yaw", "height"):
        if arg in names and b.get(arg) is not None and a.get(arg) is not None:
            out[arg] = float(a[arg]) - float(b[arg])
    for arg in ("speed", "force"):
        if arg in names and b.get(arg) and a.get(arg):
            out[arg] = math.log(float(a[arg]) / float(b[arg]))
    return {c: v for c, v in out.items() if abs(v) > 1e-9}


def change_for(component: str, value: float) -> dict[str, Any]:
    """The entry change for one component value (offset as a 3-vector, scale ops as ratios), rounded."""
    if component.startswith("offset."):
        vec = [0.0, 0.0, 0.0]
        vec["xyz".index(component[-1])] = round(value * 2000) / 2000
        return {"arg": "offset", "op": "add", "value": vec}
    if component == "yaw":
        return {"arg": "yaw", "op": "add", "value": round(value, 3)}
    if component == "height":
        return {"arg": "height", "op": "add", "value": round(value * 2000) / 2000}
    return {"arg": component, "op": "scale", "value": round(math.exp(value), 2)}


def change_components(change: dict[str, Any]) -> dict[str, float]:
    """The components (and internal values) of one entry change — the inverse of :func:`change_for`."""
    arg, op, v = change.get("arg"), change.get("op"), change.get("value")
    if arg == "offset" and op == "add" and isinstance(v, (list, tuple)):
        return {f"offset.{ax}": float(x) for ax, x in zip("xyz", v) if abs(float(x)) > 1e-9}
    if arg in ("yaw", "height") and op == "add" and not isinstance(v, (list, tuple)):
        return {arg: float(v)}
    if arg in ("speed", "force") and op == "scale" and isinstance(v, (int, float)) and v > 0:
        return {arg: math.log(float(v))}
    return {}


def role_of(skill: str, component: str) -> Optional[str]:
    """Which object a component is about: pick / push -> ``object``; place / move_to geometry -> ``target``,
    their speed and force -> ``held`` (what is carried)."""
    if skill in ("pick", "push"):
        return "object"
    if skill in ("place", "move_to"):
        return "target" if component in GEOMETRY else "held"
    return None


def ident(plan: Sequence[dict[str, Any]], i: int) -> tuple[str, Any, int]:
    """A step's identity across plan edits: (skill, object or target, how many such steps came before)."""
    def who(c: dict[str, Any]) -> tuple[str, Any]:
        a = c.get("args") or {}
        return c.get("skill", ""), a.get("object") or a.get("target")
    w = who(plan[i])
    return (w[0], w[1], sum(1 for c in plan[:i] if who(c) == w))


def shares_target(k: tuple[str, Any, int], component: str) -> bool:
    """Whether step ``k`` (see :func:`ident`) is a place into a container or onto an object that an earlier place of
    the same plan already filled, and ``component`` is geometry: where it can land then depends on what lies there
    (the spot beside the first block), so it is no evidence about the container itself."""
    return k[0] in ("place", "move_to") and k[2] > 0 and component in GEOMETRY


def held_before(plan: Sequence[dict[str, Any]], i: int) -> Optional[str]:
    for j in range(i - 1, -1, -1):
        if plan[j].get("skill") == "pick":
            return (plan[j].get("args") or {}).get("object")
    return None


@dataclass
class Instance:
    """One credited (or weak) part of the episode's corrections: a lesson candidate."""

    skill: str
    role: str
    component: str
    value: float  # net change of the component at this step (internal units: m, rad, log-ratio)
    props: dict[str, Any]  # the role object's public properties (name, kind, color, size)
    step: tuple[str, Any, int]
    utterances: list[str]
    problem: str  # 'failure: <code>' or 'objection'
    weak: bool = False

    @property
    def sign(self) -> str:
        return "+" if self.value > 0 else "-"

    @property
    def lesson(self) -> str:
        return f"{self.skill}|{self.role}|{self.component}|{self.sign}"


@dataclass
class StepFacts:
    """What happened to one step of the final plan."""

    ident: tuple[str, Any, int]
    skill: str
    index: int  # in the final plan
    roles: dict[str, Optional[dict[str, Any]]]
    knowledge: dict[str, float] = field(default_factory=dict)  # component -> change made by applied knowledge
    corrected: dict[str, float] = field(default_factory=dict)  # component -> summed change made by corrections
    ok: bool = False  # its last run succeeded
    failed: bool = False  # some run of it failed


@dataclass
class Credit:
    """The result of :func:`assign`: lessons, parts dropped, and per-step facts for confirming and weakening."""

    instances: list[Instance] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    steps: list[StepFacts] = field(default_factory=list)

    def fine(self) -> list[tuple[str, str, str, dict[str, Any]]]:
        """(skill, role, component, props) the step did fine without: no correction, no knowledge, no failure."""
        out = []
        for s in self.steps:
            if not s.ok or s.failed:
                continue
            for comp in COMPONENTS:
                role = role_of(s.skill, comp)
                props = s.roles.get(role) if role else None
                if props and comp not in s.knowledge and comp not in s.corrected and _has(s.skill, comp):
                    out.append((s.skill, role, comp, props))  # type: ignore[arg-type]
        return out


def _has(skill: str, comp: str) -> bool:
    spec = SKILLS.get(skill)
    return spec is not None and comp.split(".")[0] in {p.name for p in spec.params}


NEGATIVE_FEEDBACK = re.compile(
    r"\b(don'?t|do not|never|stop)\b.{0,40}\b(again|that|this)\b|\bforget (that|it|this)\b|\bthat was wrong\b|\bnot like that\b",
    re.IGNORECASE,
)


def is_success(episode: dict[str, Any]) -> bool:
    """True only for a finished, successful episode."""
    return episode.get("success") is True or (episode.get("success") is None and episode.get("status") == "success")


def is_negative_feedback(utterance: str) -> bool:
    """'don't do that again', 'forget that', 'never do this' ..."""
    return bool(NEGATIVE_FEEDBACK.search(utterance or ""))


def align_steps(base: Sequence[dict[str, Any]], final: Sequence[dict[str, Any]]) -> list[tuple[int, int]]:
    """Pairs (index in ``base``, index in ``final``) of the same step: by position if the skills line up, else an
    LCS on (skill, object/target)."""
    if [c.get("skill") for c in base] == [c.get("skill") for c in final]:
        return [(i, i) for i in range(len(base))]
    a, b = [(c.get("skill", ""), _who(c)) for c in base], [(c.get("skill", ""), _who(c)) for c in final]
    n, m = len(a), len(b)
    L = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            L[i][j] = L[i + 1][j + 1] + 1 if a[i] == b[j] else max(L[i + 1][j], L[i][j + 1])
    out, i, j = [], 0, 0
    while i < n and j < m:
        if a[i] == b[j]:
            out.append((i, j))
            i, j = i + 1, j + 1
        elif L[i + 1][j] >= L[i][j + 1]:
            i += 1
        else:
            j += 1
    return out


def assign(episode: dict[str, Any]) -> Credit:
    """Credit assignment for one episode record (``memory.episodes``); see the module docstring. Call it for
    successful episodes to learn; the step facts of any episode serve to weaken knowledge."""
    out = Credit()
    objects = scene_objects(episode.get("scene") or {})
    base = episode.get("base_plan") or []
    initial = episode.get("initial_plan") or base
    final = episode.get("final_plan") or []
    runs = [s for s in episode.get("steps") or [] if isinstance(s, dict) and isinstance(s.get("call"), dict)]
    base_by = {ident(base, i): c for i, c in enumerate(base)}
    init_by = {ident(initial, i): c for i, c in enumerate(initial)}
    facts: dict[tuple[str, Any, int], StepFacts] = {}
    for j, call in enumerate(final):
        k = ident(final, j)
        skill = call.get("skill", "")
        roles = {"object": object_props((call.get("args") or {}).get("object"), objects),
                 "target": object_props((call.get("args") or {}).get("target"), objects),
                 "held": object_props(held_before(final, j), objects)}
        mine = [r for r in runs if (r["call"].get("skill"), _who(r["call"])) == k[:2]]
        f = StepFacts(k, skill, j, roles, ok=bool(mine) and bool((mine[-1].get("outcome") or {}).get("success")),
                      failed=any(not (r.get("outcome") or {}).get("success") for r in mine))
        if k in base_by and k in init_by:
            f.knowledge = component_deltas(skill, base_by[k].get("args") or {}, init_by[k].get("args") or {})
        facts[k] = f
    # judge every correction, component by component
    credit: dict[tuple[Any, str], dict[str, Any]] = {}
    last_fams: dict[Any, set[str]] = {}
    for c in episode.get("corrections") or []:
        before, after = c.get("before") or [], c.get("after") or []
        if not before or not after:
            continue
        taught = c.get("level") in (None, "skill")  # an undo or a plan edit moves arguments but teaches nothing
        words = str(c.get("utterance", ""))
        for i, j in align_steps(before, after):
            k = ident(before, i)
            if k != ident(after, j):
                continue
            deltas = component_deltas(k[0], before[i].get("args") or {}, after[j].get("args") or {})
            if not deltas:
                continue
            f = facts.get(k)
            if f is not None:
                for comp, v in deltas.items():
                    f.corrected[comp] = f.corrected.get(comp, 0.0) + v
            if not taught:
                continue
            fams = families(words)
            if not fams and is_relative(words):
                fams = set(last_fams.get(k, set()))
            if fams:
                last_fams[k] = fams
            verdicts = _judge(deltas, fams, _failure_before(runs, k, c))
            fixed = _succeeded_next(runs, k, c)
            for comp, verdict in verdicts.items():
                slot = credit.setdefault((k, comp), {"strong": False, "weak": False, "utterances": [], "problem": "objection"})
                if verdict == "dropped" or not fixed:
                    why = "the step did not succeed after it" if not fixed else "the words and the outcome point elsewhere"
                    out.dropped.append(f"{k[0]} {k[1] or ''} {comp} from {words!r}: {why}".replace("  ", " "))
                    continue
                slot[verdict] = True
                slot["utterances"].append(words)
                fb = _failure_before(runs, k, c)
                if fb:
                    slot["problem"] = f"failure: {fb}"
    for (k, comp), slot in credit.items():
        f = facts.get(k)
        if f is None or not (slot["strong"] or slot["weak"]):
            continue
        role = role_of(f.skill, comp)
        props = f.roles.get(role) if role else None
        b = base_by.get(k) or {"args": {}}
        net = component_deltas(f.skill, b.get("args") or {}, final[f.index].get("args") or {}).get(comp, 0.0)
        if props is None or abs(net) < TOL[comp]:
            continue
        if shares_target(k, comp):
            out.dropped.append(f"{k[0]} {k[1] or ''} {comp} from {' / '.join(slot['utterances'])!r}: an earlier step of this "
                               f"episode put something in the {k[1]}; where this one can go depends on that, not on the {k[1]}")
            continue
        if f.corrected.get(comp, 0.0) * net <= 0 and not f.knowledge.get(comp):
            continue  # the corrections moved it one way, the plan ended the other: no lesson
        out.instances.append(Instance(f.skill, role, comp, net, props, k, slot["utterances"], slot["problem"],  # type: ignore[arg-type]
                                      weak=not slot["strong"]))
    out.steps = list(facts.values())
    return out


def _who(call: dict[str, Any]) -> Any:
    a = call.get("args") or {}
    return a.get("object") or a.get("target")


def _judge(deltas: dict[str, float], fams: set[str], failure: Optional[str]) -> dict[str, str]:
    """'strong', 'weak' or 'dropped' for every changed component of one correction."""
    changed = {FAMILY[c] for c in deltas}
    if fams & changed:
        # words that name a sideways move after a grip failure (the block slipped or was dropped) are only a
        # hypothesis: the outcome gives no evidence that aiming elsewhere fixed a grip
        unexplained = {"x", "y"} if failure in GRIP_FAILURES else set()
        return {c: ("weak" if FAMILY[c] in unexplained else "strong") if FAMILY[c] in fams else "dropped" for c in deltas}
    if fams:
        return {c: "dropped" for c in deltas}
    fail = FAILURE_FAMILIES.get(failure or "", set())
    if fail & changed:
        return {c: "strong" if FAMILY[c] in fail else "dropped" for c in deltas}
    if len(deltas) == 1:
        return {c: "strong" for c in deltas}
    return {c: "weak" for c in deltas}


def _t(x: dict[str, Any]) -> float:
    try:
        return float(x.get("t") or 0.0)
    except (TypeError, ValueError):
        return 0.0


def _failure_before(runs: list[dict[str, Any]], k: tuple[str, Any, int], c: dict[str, Any]) -> Optional[str]:
    """The failure code of the step's last run that ended before the correction (None if it did not fail)."""
    mine = [r for r in runs if (r["call"].get("skill"), _who(r["call"])) == k[:2] and _t(r) <= _t(c)]
    if c.get("during_motion") and mine:
        mine = mine[:-1]  # the run in progress had not ended
    if not mine:
        return None
    o = mine[-1].get("outcome") or {}
    return None if o.get("success") or o.get("failure") in (None, "stopped") else str(o.get("failure"))


def _succeeded_next(runs: list[dict[str, Any]], k: tuple[str, Any, int], c: dict[str, Any]) -> bool:
    """Whether the step's first run after the correction (the run in progress, for a correction made during
    motion) succeeded: the evidence that this correction fixed something. A correction followed by another
    failure gave no such evidence, even when a later, different correction made the step work ("grip harder",
    still slipping, then "lower": only the lowering is credited)."""
    mine = [r for r in runs if (r["call"].get("skill"), _who(r["call"])) == k[:2]]
    if c.get("during_motion"):
        running = [r for r in mine if _t(r) < _t(c)]
        if running:
            return bool((running[-1].get("outcome") or {}).get("success"))
    after = [r for r in mine if _t(r) >= _t(c)]
    return bool(after) and bool((after[0].get("outcome") or {}).get("success"))
