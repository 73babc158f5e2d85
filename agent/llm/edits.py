"""The compact answer a language model writes instead of a whole plan: an *edit* of the current plan.

A small model copies a short structure far better than it rewrites a plan of six-argument skill calls,
and a short answer is fast to generate. The edit uses the knowledge base's effect format
(``{"arg", "op", "value"}``, :class:`memory.kb.Entry`), so remembered corrections are examples as they are::

    {"level": "skill", "changes": [{"arg": "offset", "op": "add", "value": [0, 0.01, 0]}]}
    {"level": "skill", "changes": [{"arg": "speed", "op": "scale", "value": 0.6}]}
    {"level": "plan", "changes": [{"arg": "object", "op": "set", "value": "blue block"}]}
    {"level": "plan", "append": {"object": "large red block", "target": "gray tray"}}
    {"level": "stop"}      {"level": "none"}      {"level": "none", "question": "which block?"}

Units: ``offset`` [dx, dy, dz] in metres (robot base frame: x forward, y left, z up), ``yaw`` radians
(counter-clockwise seen from above is positive), ``speed`` / ``force`` / ``height`` ratios with ``scale``
(``height`` also ``add`` in metres). ``op``: ``add`` adds, ``scale`` multiplies, ``set`` replaces.

Which step a change lands on: ``"step": i`` in the change if given; otherwise the step being corrected,
except that ``object`` and ``force`` go to the pick of that step's pick-and-place pair and ``target``
to its place (:func:`agent.grounder.apply.pair_indices`). :func:`to_plan_answer` turns an edit into the
ordinary ``{"level", "plan", "question"?}`` answer, which :func:`agent.llm.parse.parse_grounding` then
validates like any other (safe bounds, scene names, level consistency, no do-nothing changes).
"""
from __future__ import annotations

import copy
import re
from typing import Any, Sequence

from agent.grounder.apply import pair_indices
from agent.policy import LEVELS, PolicyError
from skills.schema import NAMED_SPOTS, SKILLS, validate_call

EDIT_KEYS = {"level", "changes", "append", "question"}
CHANGE_KEYS = {"arg", "op", "value", "step"}
NUMERIC_ARGS = ("yaw", "speed", "force", "height")
OPS = ("add", "scale", "set")


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _step_for(plan: Sequence[dict[str, Any]], step: int, arg: str) -> int:
    """The step a change of ``arg`` lands on when the answer names none (see the module docstring)."""
    if _accepts(plan[step], arg):
        return step
    pick, place = pair_indices(list(plan), step)
    if arg in ("object", "force") and pick is not None:
        return pick
    if arg == "target" and place is not None:
        return place
    return step


def _accepts(call: dict[str, Any], arg: str) -> bool:
    spec = SKILLS.get(call.get("skill", ""))
    return spec is not None and any(p.name == arg for p in spec.params)


def _apply_change(plan: list[dict[str, Any]], step: int, ch: Any) -> None:
    if not isinstance(ch, dict):
        raise PolicyError(f"each change is an object {{\"arg\", \"op\", \"value\"}}, got {ch!r}")
    extra = sorted(set(ch) - CHANGE_KEYS)
    if extra:
        raise PolicyError(f"a change has unexpected keys {extra}; allowed: arg, op, value, step")
    arg, op, value = ch.get("arg"), ch.get("op", "set" if ch.get("arg") in ("object", "target") else None), ch.get("value")
    i = ch.get("step", None)
    if i is None:
        i = _step_for(plan, step, str(arg))
    if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(plan):
        raise PolicyError(f"change step {i!r} is not a step of the plan (0..{len(plan) - 1})")
    if not _accepts(plan[i], str(arg)):
        raise PolicyError(f"step {i} ({plan[i]['skill']}) has no argument {arg!r}")
    if op not in OPS:
        raise PolicyError(f"change op {op!r} is not one of {', '.join(OPS)}")
    args = plan[i]["args"]
    cur = args.get(arg)
    if arg in ("object", "target"):
        if op != "set" or not isinstance(value, str):
            raise PolicyError(f"{arg} changes with op 'set' and a name, got op {op!r} value {value!r}")
        args[arg] = value
    elif arg == "offset":
        if not (isinstance(value, list) and len(value) == 3 and all(_is_num(v) for v in value)):
            raise PolicyError(f"offset value must be [dx, dy, dz] in metres, got {value!r}")
        if op == "scale":
            raise PolicyError("offset changes with op 'add' (metres) or 'set', not 'scale'")
        args[arg] = [float(c) + float(v) for c, v in zip(cur, value)] if op == "add" else [float(v) for v in value]
    elif arg in NUMERIC_ARGS or _is_num(cur):
        if not _is_num(value):
            raise PolicyError(f"{arg} value must be a number, got {value!r}")
        args[arg] = {"add": lambda: float(cur) + value, "scale": lambda: float(cur) * value, "set": lambda: float(value)}[op]()
    else:
        raise PolicyError(f"argument {arg!r} cannot be edited")


def to_plan_answer(edit: dict[str, Any], plan: Sequence[dict[str, Any]], step: int) -> dict[str, Any]:
    """The ``{"level", "plan", "question"?}`` answer that ``edit`` means for ``plan`` (validated, defaults filled).

    Raises :class:`PolicyError` when the edit is malformed (unknown keys, ops or arguments, a value of the
    wrong shape). Whether the result is safe and consistent is :func:`agent.llm.parse.parse_grounding`'s job.
    """
    extra = sorted(set(edit) - EDIT_KEYS)
    if extra:
        raise PolicyError(f"model answer has unexpected keys {extra}; allowed: {sorted(EDIT_KEYS)}")
    level = edit.get("level")
    if level not in LEVELS:
        raise PolicyError(f"model answered unknown level {level!r}; levels: {', '.join(LEVELS)}")
    new = copy.deepcopy(list(plan))
    changes = edit.get("changes", [])
    if isinstance(changes, dict):
        changes = [changes]
    if not isinstance(changes, list):
        raise PolicyError(f"'changes' must be a list of changes, got {type(changes).__name__}")
    for ch in changes:
        _apply_change(new, step, ch)
    app = edit.get("append")
    if app is not None:
        items = app if isinstance(app, list) else [app]
        for a in items:
            if not isinstance(a, dict) or not isinstance(a.get("object"), str) or set(a) - {"object", "target"}:
                raise PolicyError(f"'append' takes {{\"object\": NAME, \"target\": NAME}}, got {a!r}")
            _, place = pair_indices(new, step)
            target = a.get("target") or (new[place]["args"].get("target") if place is not None else None)
            new.append(validate_call({"skill": "pick", "args": {"object": a["object"]}}))
            if target:
                new.append(validate_call({"skill": "place", "args": {"target": target}}))
    out: dict[str, Any] = {"level": level, "plan": new}
    if edit.get("question") is not None:
        out["question"] = edit["question"]
    return out


# --- the grammar that constrained decoding keeps the model inside -----------------------------------------
_S = " ?"
_NUM = r"-?(?:0|[1-9][0-9]{0,2})(?:\.[0-9]{1,4})?"


def _names(names: Sequence[str]) -> str:
    return "(?:" + "|".join(re.escape(n) for n in sorted(set(names), key=len, reverse=True)) + ")"


def _key(k: str, v: str) -> str:
    return f'"{k}":{_S}{v}'


def edit_pattern(scene: dict[str, Any]) -> str:
    """A regular expression for every well-formed edit in ``scene`` (names from the scene, numbers short).

    Used by :class:`agent.llm.constrain.RegexPrefix` for schema-constrained decoding; the ``regex``
    package (a transformers dependency) matches it partially, token by token.
    """
    objs = [o.get("name", "") for o in (scene.get("objects", []) if isinstance(scene, dict) else []) if o.get("name")]
    obj = '"' + _names(objs or ["object"]) + '"'
    tgt = '"' + _names((objs or []) + list(NAMED_SPOTS)) + '"'
    vec = rf"\[{_S}{_NUM},{_S}{_NUM},{_S}{_NUM}{_S}\]"
    sep = f",{_S}"

    def change(arg: str, op: str, val: str) -> str:
        return r"\{" + _key("arg", f'"{arg}"') + sep + _key("op", f'"{op}"') + sep + _key("value", val) + r"\}"

    skill_ch = "(?:" + "|".join([
        change("offset", "add", vec), change("yaw", "add", _NUM),
        change("(?:speed|force|height)", "scale", _NUM), change("height", "add", _NUM)]) + ")"
    plan_ch = "(?:" + change("object", "set", obj) + "|" + change("target", "set", tgt) + ")"
    lvl = lambda name: _key("level", f'"{name}"')  # noqa: E731
    skill = r"\{" + _S + lvl("skill") + sep + _key("changes", rf"\[{skill_ch}(?:{sep}{skill_ch}){{0,3}}\]") + _S + r"\}"
    plan = (r"\{" + _S + lvl("plan") + sep + "(?:" + _key("changes", rf"\[{plan_ch}\]") + "|"
            + _key("append", r"\{" + _key("object", obj) + sep + _key("target", tgt) + r"\}") + ")" + _S + r"\}")
    stop = r"\{" + _S + lvl("stop") + _S + r"\}"
    none = r"\{" + _S + lvl("none") + f"(?:{sep}" + _key("question", r'"[^"\\\n]{1,120}"') + ")?" + _S + r"\}"
    return r"\s{0,2}(?:" + "|".join([skill, plan, stop, none]) + ")"
