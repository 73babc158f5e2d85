"""Scoring for the teaching benchmark (``agent.bench.teach``): per-task results, per-round figures, checks.

Pure functions on plans (``shared/spec/corrections.md``: offsets in metres, base frame x forward, y left, z up)
so they are cheap to test without a simulator.

- :func:`correction_applied`: did the plan after a correction move the way the user asked? (an argument that
  changed in the wrong direction or not at all is a *misapplied* correction)
- :func:`out_of_scope_changes`: on a task, which changes that knowledge made to the plan touch a step argument
  that no quirk of the task asks for
- :class:`TaskResult` / :func:`round_stats`: the per-round figures the benchmark prints.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional, Sequence

AXES = {"x": 0, "y": 1, "z": 2}
DEFAULTS: dict[str, Any] = {"offset": [0.0, 0.0, 0.0], "yaw": 0.0, "speed": 1.0, "force": 20.0, "height": 0.1}
# Below these an argument counts as unchanged: offsets 2 mm, yaw 0.02 rad, ratios 2 % (the contract's tolerances).
OFFSET_EPS = 0.002
YAW_EPS = 0.02
RATIO_EPS = 0.02


def _arg(call: dict[str, Any] | None, name: str) -> Any:
    if call is None:
        return None
    v = call.get("args", {}).get(name)
    return DEFAULTS.get(name) if v is None else v


def correction_applied(before: Sequence[dict[str, Any]], after: Sequence[dict[str, Any]], utterance: Any,
                       level: Optional[str] = None) -> bool:
    """Whether ``after`` moved the way ``utterance`` (a :class:`sim.user.Utterance`) asked, relative to ``before``.

    offset: the step's offset along the asked axis moved in the asked sign (by more than 1 mm);
    force / speed / height: the argument moved in the asked sign; retarget: the step now names the asked
    object / target; add_step: the plan covers the asked pair; stop: the level is ``stop``; confirm: the
    plan is unchanged.
    """
    intent, i = utterance.intent, utterance.step
    b = before[i] if i < len(before) else None
    a = after[i] if i < len(after) and len(after) == len(before) else _same_skill(after, before, i)
    if intent == "offset":
        if a is None or b is None:
            return False
        ax = AXES[utterance.axis]
        d = float(_arg(a, "offset")[ax]) - float(_arg(b, "offset")[ax])
        return d * utterance.sign > 0.001
    if intent in ("force", "speed", "height"):
        if a is None or b is None:
            return False
        va, vb = _arg(a, intent), _arg(b, intent)
        if va is None or vb is None:
            return False
        return (float(va) - float(vb)) * utterance.sign > 1e-6 * max(1.0, abs(float(vb)))
    if intent == "retarget_object":
        return any(s.get("args", {}).get("object") == utterance.value for s in after if s["skill"] == "pick")
    if intent == "retarget_target":
        return any(s.get("args", {}).get("target") == utterance.value for s in after if s["skill"] == "place")
    if intent == "add_step":
        o, t = (utterance.value or "|").split("|")
        picks = [s.get("args", {}).get("object") for s in after if s["skill"] == "pick"]
        places = [s.get("args", {}).get("target") for s in after if s["skill"] == "place"]
        return o in picks and t in places
    if intent == "stop":
        return level == "stop"
    if intent in ("confirm", "retry"):
        return not plan_changes(before, after)
    return False


def _same_skill(after: Sequence[dict[str, Any]], before: Sequence[dict[str, Any]], i: int) -> Optional[dict[str, Any]]:
    """When the plan's length changed: the k-th call of the same skill in ``after`` as step ``i`` was in ``before``."""
    if i >= len(before):
        return None
    skill = before[i]["skill"]
    k = sum(1 for s in before[:i] if s["skill"] == skill)
    same = [s for s in after if s["skill"] == skill]
    return same[k] if k < len(same) else None


def plan_changes(before: Sequence[dict[str, Any]], after: Sequence[dict[str, Any]]) -> list[tuple[int, str, str]]:
    """``(step index, skill, arg)`` of every argument that differs beyond the contract's tolerances; a changed
    list of skills gives ``(-1, 'plan', 'skills')``."""
    if [s["skill"] for s in before] != [s["skill"] for s in after]:
        return [(-1, "plan", "skills")]
    out: list[tuple[int, str, str]] = []
    for i, (b, a) in enumerate(zip(before, after)):
        for k in sorted(set(b.get("args", {})) | set(a.get("args", {}))):
            vb, va = _arg(b, k), _arg(a, k)
            if k == "offset":
                vb, va = vb or [0.0] * 3, va or [0.0] * 3
                if any(abs(float(x) - float(y)) > OFFSET_EPS for x, y in zip(vb, va)):
                    out.append((i, b["skill"], k))
            elif k == "yaw":
                if abs(float(va or 0) - float(vb or 0)) > YAW_EPS:
                    out.append((i, b["skill"], k))
            elif isinstance(va, (int, float)) and isinstance(vb, (int, float)) and not isinstance(va, bool):
                if abs(float(va) - float(vb)) > RATIO_EPS * max(abs(float(vb)), 1e-9):
                    out.append((i, b["skill"], k))
            elif va != vb:
                out.append((i, b["skill"], k))
    return out


def out_of_scope_changes(base_plan: Sequence[dict[str, Any]], initial_plan: Sequence[dict[str, Any]],
                         allowed: set[tuple[int, str, str]]) -> list[str]:
    """Changes knowledge made (``base_plan``: planned without knowledge; ``initial_plan``: with it) to arguments
    that no quirk of the task asks for. ``allowed``: ``(goal pair index, skill, arg)`` from ``Task.allowed_args``."""
    bad: list[str] = []
    for i, skill, arg in plan_changes(base_plan, initial_plan):
        if i < 0:
            bad.append("plan skills changed")
            continue
        pair = sum(1 for s in initial_plan[:i] if s["skill"] == skill)
        if (pair, skill, arg) not in allowed:
            bad.append(f"step {i} {skill}.{arg}")
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
    failure: Optional[str] = None
    utterances: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def round_stats(results: Sequence[TaskResult], round_no: int, wall_s: float) -> dict[str, Any]:
    """The per-round figures: means over tasks; rates in [0, 1]; ``misapplied_corrections`` is the fraction of
    corrections the robot applied the wrong way or not at all; ``out_of_scope_rate`` the fraction of control
    tasks where knowledge touched a step argument no quirk asked for."""
    n = len(results)
    ctrl = [r for r in results if r.control]
    checked = sum(r.checked for r in results)
    mis = sum(r.misapplied for r in results)
    return {
        "round": round_no,
        "tasks": n,
        "corrections_per_task": round(sum(r.corrections for r in results) / n, 4) if n else 0.0,
        "success_rate": round(sum(r.success for r in results) / n, 4) if n else 0.0,
        "intervention_rate": round(sum(r.corrections > 0 for r in results) / n, 4) if n else 0.0,
        "first_attempt_success": round(sum(r.first_attempt_success for r in results) / n, 4) if n else 0.0,
        "misapplied_corrections": round(mis / checked, 4) if checked else 0.0,
        "misapplied_count": mis,
        "corrections": sum(r.corrections for r in results),
        "control_tasks": len(ctrl),
        "out_of_scope": sum(bool(r.out_of_scope) for r in ctrl),
        "out_of_scope_rate": round(sum(bool(r.out_of_scope) for r in ctrl) / len(ctrl), 4) if ctrl else 0.0,
        "out_of_scope_any_task": sum(bool(r.out_of_scope) for r in results),
        "gave_up": sum(r.gave_up for r in results),
        "wall_s": round(wall_s, 2),
    }
