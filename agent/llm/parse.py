"""Strict parsing and validation of language-model output into plans and :class:`~agent.policy.Grounding`.

A model's text is never trusted. :func:`extract_json` takes the first complete JSON object out of the
text (balanced braces, strings and escapes respected; ``<think>`` blocks and code fences tolerated;
duplicate keys, NaN and Infinity rejected). :func:`parse_plan` and :func:`parse_grounding` then check
the keys, the level, and run every plan through :func:`skills.schema.validate_plan` (defaults filled,
safe bounds, object names in the scene). Grounding also checks level consistency against the input
plan: ``stop`` / ``none`` (and any answer with a ``question``) must keep the plan; ``skill`` must keep
the skills and their ``object`` / ``target`` and ``plan`` must change them; both must change something (an answer that
claims a change and makes none is rejected, not passed off as right). Anything else raises :class:`~agent.policy.PolicyError`
with a message that says what was wrong; nothing unvalidated is ever returned.
"""
from __future__ import annotations

import copy
import json
import math
import re
from typing import Any, Sequence

from agent.policy import LEVELS, Grounding, PolicyError
from skills.schema import SkillArgError, diff_plans, validate_plan

GROUND_KEYS = {"level", "plan", "question"}
# Prompts show numbers rounded to 4 decimals (agent.llm.prompt); a value echoed back within this of the
# current one is the current one (0.1 mm, 0.0001 rad, far below any correction).
SNAP_TOL = 1e-4
PLAN_KEYS = {"plan", "question"}
_THINK = re.compile(r"<think>.*?(</think>|$)", re.S | re.I)


def _snippet(text: str, n: int = 200) -> str:
    t = " ".join(text.split())
    return repr(t if len(t) <= n else t[:n] + "...")


def _no_dups(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def _bad_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _balanced_end(text: str, start: int) -> int:
    """Index just past the object that opens at ``text[start] == '{'``, or -1 if it never closes."""
    depth, in_str, esc = 0, False, False
    for i in range(start, len(text)):
        c = text[i]
        if in_str:
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
    return -1


def first_object_end(text: str) -> int:
    """Index just past the first balanced ``{...}`` in ``text``, or -1 (used to stop generation early)."""
    start = text.find("{")
    return -1 if start < 0 else _balanced_end(text, start)


def extract_json(text: str) -> dict[str, Any]:
    """The first JSON object in ``text`` (balanced braces), as a dict; :class:`PolicyError` otherwise.

    Tries each ``{`` in order and returns the first balanced span that parses as a JSON object, so
    prose like "use {braces}" before the answer does not hide it.
    """
    if not isinstance(text, str):
        raise PolicyError(f"model output is not text: {type(text).__name__}")
    body = _THINK.sub("", text)
    starts = [m.start() for m in re.finditer(r"\{", body)]
    if not starts:
        raise PolicyError(f"model output has no JSON object: {_snippet(text)}")
    first_error = ""
    for s in starts:
        end = _balanced_end(body, s)
        if end < 0:
            first_error = first_error or "unterminated JSON object (unbalanced braces)"
            continue
        try:
            obj = json.loads(body[s:end], object_pairs_hook=_no_dups, parse_constant=_bad_constant)
        except (ValueError, RecursionError) as e:
            first_error = first_error or f"not valid JSON ({e})"
            continue
        if isinstance(obj, dict):
            return obj
    raise PolicyError(f"model output is malformed: {first_error}: {_snippet(text)}")


def _check_keys(obj: dict[str, Any], allowed: set[str], required: set[str]) -> None:
    extra = sorted(set(obj) - allowed)
    if extra:
        raise PolicyError(f"model answer has unexpected keys {extra}; allowed: {sorted(allowed)}")
    missing = sorted(required - set(obj))
    if missing:
        raise PolicyError(f"model answer lacks {missing}; got keys {sorted(obj)}")


def _question(obj: dict[str, Any]) -> str | None:
    q = obj.get("question")
    if q is None:
        return None
    if not isinstance(q, str):
        raise PolicyError(f"model answer's question must be a string, got {type(q).__name__}")
    q = q.strip()
    return q or None


def _validated(plan: Any, scene: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(plan, list):
        raise PolicyError(f"{what} must be a list of skill calls, got {type(plan).__name__}")
    try:
        return validate_plan(plan, scene)
    except SkillArgError as e:
        raise PolicyError(f"{what} rejected: {e}") from None


def _close(a: Any, b: Any, tol: float = 1e-6) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool):
        return math.isclose(float(a), float(b), rel_tol=0.0, abs_tol=tol)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_close(x, y, tol) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], tol) for k in a)
    return a == b


def plans_equal(a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]], tol: float = 1e-6) -> bool:
    """Same skills, same arguments (numbers within ``tol``); compare normalised plans."""
    return _close(list(a), list(b), tol)


def _anchors(plan: Sequence[dict[str, Any]]) -> list[tuple[str, Any, Any]]:
    return [(c["skill"], c["args"].get("object"), c["args"].get("target")) for c in plan]


def inherit_args(before: Sequence[dict[str, Any]], after: Any) -> Any:
    """``after`` with arguments a step leaves out taken from the matching step of ``before``.

    A step of ``after`` matches the step of ``before`` with the same skill, ``object`` and ``target``
    (the same index first, else the first unused one). Models often write only the arguments they
    change; without this, an omitted argument would silently fall back to its default (undoing, say, a
    remembered force). Unmatched steps (retargeted, inserted) keep the defaults. Malformed input is
    returned as is, for validation to reject. Numbers within :data:`SNAP_TOL` of the matched step's
    value (the prompt rounds to 4 decimals) are taken as that exact value.
    """
    if not isinstance(after, list):
        return after
    anchors = _anchors(before)
    used: set[int] = set()
    out: list[Any] = []
    for i, call in enumerate(after):
        args = call.get("args", {}) if isinstance(call, dict) else None
        if not isinstance(args, dict):
            out.append(call)
            continue
        key = (call.get("skill"), args.get("object"), args.get("target"))
        order = ([i] if i < len(anchors) else []) + [j for j in range(len(anchors)) if j != i]
        j = next((j for j in order if j not in used and anchors[j] == key), None)
        if j is None:
            out.append(call)
            continue
        used.add(j)
        old = before[j]["args"]
        out.append({**call, "args": {**copy.deepcopy(old), **{k: _snap(old.get(k), v) for k, v in args.items()}}})
    return out


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _snap(old: Any, new: Any, tol: float = SNAP_TOL) -> Any:
    """``old`` where ``new`` only differs from it by display rounding (numbers, or vectors component-wise)."""
    if _is_num(old) and _is_num(new) and math.isfinite(new) and abs(new - old) <= tol:
        return old
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [_snap(a, b, tol) for a, b in zip(old, new)]
    return new


def parse_plan(text: str, scene: Any) -> list[dict[str, Any]]:
    """``{"plan": [...]}`` from model text, validated against ``scene``; :class:`PolicyError` otherwise.

    A model that answers ``{"plan": [], "question": ...}`` (task impossible here) raises a
    PolicyError carrying its question.
    """
    obj = extract_json(text)
    _check_keys(obj, PLAN_KEYS, {"plan"})
    q = _question(obj)
    if obj["plan"] == [] or obj["plan"] is None:
        raise PolicyError(f"the model could not plan this task: {q}" if q else "the model answered an empty plan")
    return _validated(obj["plan"], scene, "model plan")


def parse_grounding(text: str, scene: Any, plan: Sequence[dict[str, Any]]) -> Grounding:
    """``{"level", "plan", "question"?}`` from model text, validated and checked against the input ``plan``.

    Rules: ``level`` is one of :data:`agent.policy.LEVELS`; ``plan`` passes ``validate_plan`` against
    ``scene`` after :func:`inherit_args` (arguments a step leaves out keep their current values); for
    ``stop`` / ``none`` and whenever a ``question`` is given the plan equals the input
    plan (numbers within 1e-6); with a question the level must be ``none`` or ``stop``; for ``skill``
    the skills and their ``object`` / ``target`` are unchanged; for ``skill`` / ``plan`` the plan differs from
    the input plan (numbers beyond 1e-6). For ``skill`` / ``plan`` the returned plan
    is the validated one, defaults filled; for ``stop`` / ``none`` it is a copy of the input ``plan``, as
    given. ``changes`` comes from :func:`skills.schema.diff_plans`.
    """
    obj = extract_json(text)
    _check_keys(obj, GROUND_KEYS, {"level", "plan"})
    level = obj["level"]
    if level not in LEVELS:
        raise PolicyError(f"model answered unknown level {level!r}; levels: {', '.join(LEVELS)}")
    question = _question(obj)
    try:
        before = validate_plan(list(plan), scene)
    except SkillArgError as e:
        raise PolicyError(f"the current plan is itself invalid: {e}") from None
    after = _validated(inherit_args(before, obj["plan"]), scene, "model plan")
    if level in ("stop", "none") and not plans_equal(before, after):
        raise PolicyError(
            f"model answered level {level!r} but changed the plan ({'; '.join(diff_plans(before, after)) or 'arguments differ'}); "
            f"level {level!r} keeps the plan"
        )
    if question is not None:
        if level not in ("none", "stop"):
            raise PolicyError(f"model asked a question ({question!r}) but answered level {level!r}; a question goes with level 'none'")
    if level == "skill" and _anchors(before) != _anchors(after):
        b = ", ".join(f"{s}({o or t or ''})" for s, o, t in _anchors(before))
        a = ", ".join(f"{s}({o or t or ''})" for s, o, t in _anchors(after))
        raise PolicyError(
            f"model answered level 'skill' but changed the skills or their object/target: [{b}] -> [{a}]; that is level 'plan'"
        )
    if level == "plan" and _anchors(before) == _anchors(after) and not plans_equal(before, after):
        raise PolicyError("model answered level 'plan' but only changed arguments of the same skills and objects; that is level 'skill'")
    if level in ("skill", "plan") and plans_equal(before, after):
        raise PolicyError(
            f"model answered level {level!r} but the plan is unchanged; a correction that changes nothing is level 'none' "
            "(with a question when the utterance is unclear)"
        )
    if level in ("stop", "none"):  # the plan is kept exactly as the caller gave it
        return Grounding(level=level, plan=copy.deepcopy(list(plan)), changes=[], question=question, parsed={"answer": obj})
    return Grounding(level=level, plan=after, changes=diff_plans(before, after), question=question, parsed={"answer": obj})
