"""Scoring for the teaching benchmark (``agent.bench.teach``): per-task results, per-round figures, seeds.

Pure functions on plans (``shared/spec/corrections.md``: offsets in metres, base frame x forward, y left, z up)
so they are cheap to test without a simulator.

- :func:`correction_applied`: a grounded correction is *misapplied* when the plan after it changes any argument
  the user's intent did not call for (another step, another argument, another offset axis), or moves the asked
  one the wrong way or not at all. Vague intents ("you dropped it") call for any change of the arguments a person
  could mean (:data:`VAGUE_ARGS`) and none other.
- :func:`knowledge_changes` / :func:`out_of_scope`: which arguments knowledge changed, at planning time or during the
  episode (a retargeted step re-tuned by knowledge), and which of those no hidden rule calls for on that step.
- :class:`TaskResult` / :func:`round_stats`: per-round figures; :func:`aggregate`: mean and 95 % interval over seeds.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Optional, Sequence

from skills.schema import SKILLS

AXES = ("x", "y", "z")
# Below these an argument counts as unchanged: offsets 2 mm, yaw 0.02 rad, ratios 2 % (the contract's tolerances).
OFFSET_EPS = 0.002
YAW_EPS = 0.02
RATIO_EPS = 0.02
MOVED_EPS = 0.001  # m: an asked offset must move by more than this
DIRECTIONAL = ("offset", "force", "speed", "height", "yaw", "other_way")
# What a vague intent may change, by skill of the step it refers to.
VAGUE_ARGS: dict[str, dict[str, set[str]]] = {
    "vague_pick": {"pick": {"force", "offset", "speed", "yaw", "height"}, "place": {"speed"}},
    "vague_place": {"place": {"offset", "yaw", "height", "speed"}},
    "vague_knock": {"pick": {"height", "offset"}, "place": {"height", "offset"}},
}
NEUTRAL = ("confirm", "retry")
SUMMARY_KEYS = ("corrections_per_task", "success_rate", "intervention_rate", "first_attempt_success",
                "misapplied_corrections", "out_of_scope_rate", "wall_s")
# Student's t, two-sided 95 %, by degrees of freedom (1..30); above 30, 1.96.
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def _arg(call: dict[str, Any] | None, name: str) -> Any:
    if call is None:
        return None
    v = call.get("args", {}).get(name)
    if v is None:
        v = SKILLS[call["skill"]].defaults().get(name) if call["skill"] in SKILLS else None
    return v


def plan_changes(before: Sequence[dict[str, Any]], after: Sequence[dict[str, Any]]) -> list[tuple[int, str, str]]:
    """``(step index, skill, arg)`` of every argument that differs beyond the contract's tolerances; offsets are
    reported per axis (``offset.x``, ``offset.y``, ``offset.z``); a changed list of skills gives
    ``(-1, 'plan', 'skills')``."""
    if [s["skill"] for s in before] != [s["skill"] for s in after]:
        return [(-1, "plan", "skills")]
    out: list[tuple[int, str, str]] = []
    for i, (b, a) in enumerate(zip(before, after)):
        for k in sorted(set(b.get("args", {})) | set(a.get("args", {}))):
            vb, va = _arg(b, k), _arg(a, k)
            if k == "offset":
                vb, va = vb or [0.0] * 3, va or [0.0] * 3
                out += [(i, b["skill"], f"offset.{ax}") for ax, x, y in zip(AXES, vb, va) if abs(float(x) - float(y)) > OFFSET_EPS]
            elif k == "yaw":
                if abs(float(va or 0) - float(vb or 0)) > YAW_EPS:
                    out.append((i, b["skill"], k))
            elif isinstance(va, (int, float)) and isinstance(vb, (int, float)) and not isinstance(va, bool):
                if abs(float(va) - float(vb)) > RATIO_EPS * max(abs(float(vb)), 1e-9):
                    out.append((i, b["skill"], k))
            elif va != vb:
                out.append((i, b["skill"], k))
    return out


def _moved(b: dict[str, Any], a: dict[str, Any], arg: str, axis: Optional[str], sign: int) -> bool:
    if arg == "offset":
        ax = AXES.index(axis or "x")
        return (float(_arg(a, "offset")[ax]) - float(_arg(b, "offset")[ax])) * sign > MOVED_EPS
    va, vb = _arg(a, arg), _arg(b, arg)
    if va is None or vb is None:
        return False
    return (float(va) - float(vb)) * sign > 1e-6 * max(1.0, abs(float(vb)))


def correction_applied(before: Sequence[dict[str, Any]], after: Sequence[dict[str, Any]], utterance: Any,
                       level: Optional[str] = None) -> bool:
    """Whether the plan went from ``before`` to ``after`` the way ``utterance`` (a ``sim.speaker.Utterance``) asked
    and in no other way (see the module docstring)."""
    intent, i = utterance.intent, utterance.step
    if intent == "stop":
        return level == "stop"
    changes = plan_changes(before, after)
    if intent in NEUTRAL:
        return not changes
    if intent in ("retarget_object", "retarget_target"):
        skill, key = ("pick", "object") if intent == "retarget_object" else ("place", "target")
        if not any(s["skill"] == skill and s.get("args", {}).get(key) == utterance.value for s in after):
            return False
        if changes and changes[0][0] < 0:
            return True  # a retarget may restructure the plan
        moved = {j for j, _s, a in changes if a == key}
        return bool(moved) and all(j in moved for j, _s, _a in changes)
    if intent == "add_step":
        o, t = (utterance.value or "|").split("|")
        covered = any(s["skill"] == "pick" and s.get("args", {}).get("object") == o for s in after) and \
            any(s["skill"] == "place" and s.get("args", {}).get("target") == t for s in after)
        kept = [s for s in after if not (s.get("args", {}).get("object") == o or s.get("args", {}).get("target") == t)]
        return covered and all(any(k == s for s in before) for k in kept)
    if intent in VAGUE_ARGS:
        # a vague intent calls for no particular change: none is fine, any outside what it could mean is not
        if changes and (changes[0][0] < 0 or i >= len(before)):
            return False
        ok = VAGUE_ARGS[intent].get(before[i]["skill"], set()) if i < len(before) else set()
        return all(j == i and a.split(".")[0] in ok for j, _s, a in changes)
    if not changes or changes[0][0] < 0 or i >= len(before):
        return False
    if intent in DIRECTIONAL:
        arg = utterance.arg or "offset"
        want = f"offset.{utterance.axis}" if arg == "offset" else arg
        return _moved(before[i], after[i], arg, utterance.axis, utterance.sign) and all(
            (j, a) == (i, want) for j, _s, a in changes)
    return False


def knowledge_changes(base_plan: Sequence[dict[str, Any]], initial_plan: Sequence[dict[str, Any]],
                      results: Sequence[Any] = ()) -> list[tuple[str, Sequence[dict[str, Any]], int, str]]:
    """Changes knowledge made: ``(when, plan, step, arg)`` with ``when`` 'plan' (``base_plan`` -> ``initial_plan``)
    or 'episode' (a correction result whose step was retargeted and re-tuned: arguments of that step in the plan
    after it that differ from the skill's defaults). ``results``: the session's correction results."""
    out: list[tuple[str, Sequence[dict[str, Any]], int, str]] = []
    for j, _s, a in plan_changes(base_plan, initial_plan):
        out.append(("plan", initial_plan, j, a))
    for r in results:
        before, after = getattr(r, "before", []), getattr(r, "after", [])
        if getattr(r, "level", None) != "plan" or len(before) != len(after):
            continue
        for j, (b, a) in enumerate(zip(before, after)):
            kb_, ka = b.get("args", {}), a.get("args", {})
            if b["skill"] != a["skill"] or (kb_.get("object"), kb_.get("target")) == (ka.get("object"), ka.get("target")):
                continue
            default = {"skill": a["skill"], "args": {k: v for k, v in ka.items() if k in ("object", "target")}}
            for jj, _s, arg in plan_changes([default], [a]):
                out.append(("episode", after, j, arg))
    return out


def policy_changes(base_plan: Sequence[dict[str, Any]]) -> list[tuple[str, Sequence[dict[str, Any]], int, str]]:
    """Arguments the policy itself set when it planned (a checkpoint's learned plan arguments,
    ``agent.learn.plan_args``): ``("policy", plan, step, arg)`` for every argument of ``base_plan`` (the plan before
    knowledge) that differs from the skill's default; the same shape as :func:`knowledge_changes`."""
    bare = [{"skill": c["skill"], "args": {k: v for k, v in c.get("args", {}).items() if k in ("object", "target")}} for c in base_plan]
    return [("policy", base_plan, j, a) for j, _s, a in plan_changes(bare, base_plan)]


def out_of_scope(changes: Sequence[tuple[str, Sequence[dict[str, Any]], int, str]],
                 allowed: Callable[[Sequence[dict[str, Any]], int], set[str]]) -> list[str]:
    """The knowledge changes (from :func:`knowledge_changes`) to an argument that ``allowed(plan, step)`` (the task's
    hidden rules for that step) does not call for; a changed list of skills is always out of scope."""
    bad = []
    for when, plan, j, arg in changes:
        if j < 0:
            bad.append(f"{when}: plan skills changed")
        elif arg.split(".")[0] not in allowed(plan, j):
            bad.append(f"{when}: step {j} {plan[j]['skill']}.{arg}")
    return bad


@dataclass
class TaskResult:
    """What happened on one task (one episode)."""

    id: str
    round: int
    recipe: str
    text: str
    control: bool
    success: bool
    corrections: int
    first_attempt_success: bool
    misapplied: int = 0
    checked: int = 0
    out_of_scope: list[str] = field(default_factory=list)
    gave_up: bool = False
    wall_s: float = 0.0
    episode_id: Optional[str] = None
    knowledge_used: int = 0
    policy_args: list[str] = field(default_factory=list)
    failure: Optional[str] = None
    after_outcome: int = 0
    utterances: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def round_stats(results: Sequence[TaskResult], round_no: int, wall_s: float) -> dict[str, Any]:
    """The per-round figures: means over tasks; rates in [0, 1]. ``misapplied_corrections``: fraction of checked
    corrections that changed something not asked for or moved the asked argument the wrong way / not at all;
    ``out_of_scope_rate``: fraction of ALL tasks where knowledge changed an argument no hidden rule calls for."""
    n = len(results)
    ctrl = [r for r in results if r.control]
    checked = sum(r.checked for r in results)
    mis = sum(r.misapplied for r in results)
    corr = sum(r.corrections for r in results)

    def rate(k: float) -> float:
        return round(k / n, 4) if n else 0.0

    return {
        "round": round_no,
        "tasks": n,
        "corrections_per_task": rate(corr),
        "success_rate": rate(sum(r.success for r in results)),
        "intervention_rate": rate(sum(r.corrections > 0 for r in results)),
        "first_attempt_success": rate(sum(r.first_attempt_success for r in results)),
        "misapplied_corrections": round(mis / checked, 4) if checked else 0.0,
        "misapplied_count": mis,
        "checked_corrections": checked,
        "corrections": corr,
        "corrections_after_outcome": sum(r.after_outcome for r in results),
        "control_tasks": len(ctrl),
        "out_of_scope": sum(bool(r.out_of_scope) for r in results),
        "out_of_scope_rate": rate(sum(bool(r.out_of_scope) for r in results)),
        "out_of_scope_control": sum(bool(r.out_of_scope) for r in ctrl),
        "policy_args": sum(len(r.policy_args) for r in results),
        "policy_args_out_of_scope": sum(1 for r in results for x in r.out_of_scope if x.startswith("policy:")),
        "gave_up": sum(r.gave_up for r in results),
        "wall_s": round(wall_s, 2),
    }


def ci95(values: Sequence[float]) -> float:
    """Half-width of the 95 % interval of the mean of ``values`` (Student's t); 0 for fewer than two values."""
    n = len(values)
    if n < 2:
        return 0.0
    t = _T95[n - 2] if n - 1 <= len(_T95) else 1.96
    return round(t * statistics.stdev(values) / math.sqrt(n), 4)


def aggregate(per_seed: Sequence[Sequence[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per round: the mean over seeds of every numeric figure, plus ``ci95`` (half-widths for :data:`SUMMARY_KEYS`)
    and ``per_seed`` (the figures of :data:`SUMMARY_KEYS` of each seed)."""
    out = []
    for rounds in zip(*per_seed):
        keys = [k for k, v in rounds[0].items() if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "round"]
        row: dict[str, Any] = {"round": rounds[0]["round"]}
        for k in keys:
            row[k] = round(statistics.fmean(float(r[k]) for r in rounds), 4)
        row["ci95"] = {k: ci95([float(r[k]) for r in rounds]) for k in SUMMARY_KEYS}
        row["per_seed"] = {k: [r[k] for r in rounds] for k in SUMMARY_KEYS}
        out.append(row)
    return out
