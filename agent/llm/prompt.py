"""Prompts for language-model policies: the scene, the task, the plan, the correction, the contract.

Two prompts, each a list of chat messages (``[{"role": "system"|"user", "content": str}]``):

- :func:`plan_messages` asks for the initial plan of a task; answer ``{"plan": [...]}``.
- :func:`ground_messages` asks for the plan after a correction; answer
  ``{"level": "skill"|"plan"|"stop"|"none", "plan": [...], "question": str (optional)}``.

The system message carries what does not change between calls (the frames and units of
``shared/spec/corrections.md``, the magnitude rules, the skill catalogue with units, defaults and safe
bounds from :mod:`skills.schema`, and the answer schema with one short example); the user message
carries the case (scene objects with name, kind, colour, size and position in metres in the robot base
frame; the task; the plan with step indices; the step being corrected; the correction history; the
retrieved knowledge, each entry's ``text`` and structured ``effect``; the utterance).

:func:`to_plain_prompt` flattens messages for tokenizers without a chat template.
Whatever a model answers is parsed and validated by :mod:`agent.llm.parse`; nothing here is trusted.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

from agent.policy import LEVELS
from skills.schema import NAMED_SPOTS, SKILLS, Param

Message = dict[str, str]

# Condensed from shared/spec/corrections.md (frames, units, grounding levels, magnitudes).
CONTRACT = """\
Frames and units: robot base frame; x is forward (away from the robot, across the table), y is the robot's left, z is up. \
Metres, radians, seconds, newtons. The user stands behind the robot and looks where it looks: "left" is +y, "right" is -y, \
"forward / further / away" is +x, "back / closer / toward me" is -x, "up / higher" is +z, "down / lower" is -z. \
A positive yaw turns counter-clockwise seen from above.
Canonical arguments: object (scene object acted on), target (scene object or named spot the object goes to), \
offset [dx, dy, dz] in metres added to the aimed point, yaw in radians added to the skill's own choice, \
speed (scale on nominal speed, 1.0 = normal), force (gripping force, N), height (approach / lift clearance, m).
Magnitudes when no number is given: "a bit / a little / slightly / a touch / a tad" is small (0.5 to 2 cm, or 2 to 20 degrees); \
a bare direction is medium (1 to 6 cm, or 6 to 45 degrees); "a lot / much / way / far" is large (4 to 20 cm). \
A number with a unit (mm, cm, inches, degrees) is taken as said (convert to metres / radians). \
"More", "again", "keep going" repeat the last correction's direction; "too far", "back a little" undo part of it. \
Speed words scale speed (slower below 1, faster above 1); "harder / firmer" raise force, "gentler / softer" lower it.
Knowledge remembered from earlier episodes comes as text plus a structured effect ({"skill", "changes": [{"arg", "op", "value"}]}; \
op "add" adds value, "scale" multiplies, "set" replaces). Effects are applied to plans automatically: the current plan already \
includes them, so never add them again; use knowledge to understand what the user means and what worked before."""

LEVEL_RULES = """\
Offsets and other changes add to the current values of the step; keep every argument you do not mean to change exactly as it is \
(an argument left out of a step keeps its current value).
Levels:
- "skill": one or more arguments of one or more steps change; the skills and their object / target stay the same.
- "plan": the skills or their object / target change (retarget, insert, delete, reorder).
- "stop": halt now; "plan" is the current plan, unchanged.
- "none": praise, or nothing to change; "plan" is the current plan, unchanged.
If the utterance cannot be grounded (an object that is not in the scene, an unclear request), answer level "none", \
the unchanged plan, and a short "question" to ask the user."""

GROUND_EXAMPLE_IN = 'Plan: 0: pick {"object": "red block", "offset": [0, 0, 0], ...}  1: place {"target": "green bowl", "offset": [0, 0, 0], ...}\n' \
    'Step being corrected: 1\nUtterance: "a bit to the left"'
GROUND_EXAMPLE_OUT = {
    "level": "skill",
    "plan": [
        {"skill": "pick", "args": {"object": "red block", "offset": [0, 0, 0], "yaw": 0, "speed": 1.0, "force": 20, "height": 0.1}},
        {"skill": "place", "args": {"target": "green bowl", "offset": [0, 0.01, 0], "yaw": 0, "speed": 1.0, "height": 0.1}},
    ],
}
PLAN_EXAMPLE_IN = 'Task: "put the red block in the green bowl"'
PLAN_EXAMPLE_OUT = {"plan": [{"skill": "pick", "args": {"object": "red block"}}, {"skill": "place", "args": {"target": "green bowl"}}]}


def _param_line(p: Param) -> str:
    if p.type in ("object", "target"):
        kind = "scene object name" if p.type == "object" else "scene object name or named spot"
        return f"{p.name} ({kind}, required)"
    rng = f" in [{p.lo:g}, {p.hi:g}]" if p.lo is not None and p.hi is not None else ""
    unit = f" {p.unit}" if p.unit else ""
    default = list(p.default) if isinstance(p.default, tuple) else p.default
    kind = "[x, y, z]" if p.type == "vec3" else "number"
    return f"{p.name} ({kind}{unit}{rng}{' each' if p.type == 'vec3' and rng else ''}, default {json.dumps(default)})"


def skill_catalogue() -> str:
    """One line per skill of :data:`skills.schema.SKILLS`: what it does, its arguments, units, defaults and safe bounds."""
    lines = []
    for s in SKILLS.values():
        lines.append(f"- {s.name}: {s.doc}. Arguments: {'; '.join(_param_line(p) for p in s.params)}.")
    spots = ", ".join(f"{n!r} ({x:g}, {y:g})" for n, (x, y) in NAMED_SPOTS.items())
    lines.append(f"Named spots a target may also be (x, y in metres): {spots}.")
    return "\n".join(lines)


def _round(v: Any) -> Any:
    if isinstance(v, float):
        return round(v, 4)
    if isinstance(v, (list, tuple)):
        return [_round(x) for x in v]
    if isinstance(v, dict):
        return {k: _round(x) for k, x in v.items()}
    return v


def format_scene(scene: dict[str, Any]) -> str:
    """One line per object: name, kind, colour, size (m) and position [x, y, z] (m, base frame)."""
    objs = scene.get("objects", []) if isinstance(scene, dict) else []
    if not objs:
        return "(no objects)"
    lines = []
    for o in objs:
        pos = ", ".join(f"{float(v):.3f}" for v in o.get("position", ()))
        lines.append(f'- "{o.get("name")}": {o.get("kind", "?")}, colour {o.get("color", "?")}, size {float(o.get("size", 0)):.3f} m, position [{pos}] m')
    return "\n".join(lines)


def format_plan(plan: Sequence[dict[str, Any]]) -> str:
    """One line per step: ``index: {"skill": ..., "args": {...}}`` (compact JSON, rounded to 0.1 mm)."""
    if not plan:
        return "(empty plan)"
    return "\n".join(f"{i}: {json.dumps({'skill': c.get('skill'), 'args': _round(_anchors_first(c.get('args', {})))})}" for i, c in enumerate(plan))


def _anchors_first(args: dict[str, Any]) -> dict[str, Any]:
    """``object`` / ``target`` first, the other arguments in their given order."""
    head = {k: args[k] for k in ("object", "target") if k in args}
    return {**head, **{k: v for k, v in args.items() if k not in head}}


def format_history(history: Sequence[dict[str, Any]]) -> str:
    if not history:
        return "(none)"
    return "\n".join(f'{i + 1}. step {h.get("step")}: "{h.get("utterance", "")}"' for i, h in enumerate(history))


def format_knowledge(knowledge: Sequence[dict[str, Any]]) -> str:
    """Each retrieved entry's ``text`` and structured ``effect`` (compact JSON)."""
    if not knowledge:
        return "(none)"
    lines = []
    for k in knowledge:
        text = k.get("text", "") if isinstance(k, dict) else str(k)
        effect = k.get("effect") if isinstance(k, dict) else None
        line = f"- {text}"
        if effect not in (None, {}, []):
            line += f" | effect: {json.dumps(_round(effect), sort_keys=True, default=str)}"
        lines.append(line)
    return "\n".join(lines)


def system_ground() -> str:
    return (
        "You ground a user's spoken correction of a robot arm into a changed plan of parameterised skills. "
        "Answer with exactly one JSON object and nothing else.\n\n"
        f"{CONTRACT}\n\nSkills:\n{skill_catalogue()}\n\n{LEVEL_RULES}\n\n"
        'Answer schema: {"level": one of ' + ", ".join(f'"{lv}"' for lv in LEVELS)
        + ', "plan": the full plan after the correction, a list of {"skill": NAME, "args": {...}} using only the skills, '
        'arguments and object names given, within the safe ranges, "question": optional string}.\n\n'
        f"Example.\n{GROUND_EXAMPLE_IN}\nAnswer: {json.dumps(GROUND_EXAMPLE_OUT)}"
    )


def system_plan() -> str:
    return (
        "You turn a task for a robot arm into a plan of parameterised skills. "
        "Answer with exactly one JSON object and nothing else.\n\n"
        f"{CONTRACT}\n\nSkills:\n{skill_catalogue()}\n\n"
        'Answer schema: {"plan": a list of {"skill": NAME, "args": {...}} using only the skills, arguments and object names '
        'given, within the safe ranges; arguments left out take their defaults; remembered effects are applied afterwards, do not apply them yourself}. If the task cannot be done in this scene, '
        'answer {"plan": [], "question": "what to ask the user"}.\n\n'
        f"Example.\n{PLAN_EXAMPLE_IN}\nAnswer: {json.dumps(PLAN_EXAMPLE_OUT)}"
    )


def ground_messages(
    scene: dict[str, Any],
    task: str,
    plan: Sequence[dict[str, Any]],
    step: int,
    history: Sequence[dict[str, Any]],
    knowledge: Sequence[dict[str, Any]],
    utterance: str,
) -> list[Message]:
    """Chat messages asking for ``{"level", "plan", "question"?}`` after ``utterance``."""
    user = (
        f"Scene objects (positions in metres, robot base frame):\n{format_scene(scene)}\n\n"
        f'Task: "{task}"\n\n'
        f"Current plan (step index: skill call):\n{format_plan(plan)}\n\n"
        f"Step being corrected (executing, or last executed): {step}"
        + (f" ({plan[step].get('skill')})" if 0 <= step < len(plan) else "")
        + f"\n\nEarlier corrections in this episode (oldest first):\n{format_history(history)}\n\n"
        f"Knowledge remembered from earlier episodes:\n{format_knowledge(knowledge)}\n\n"
        f'Utterance: "{utterance}"\n\n'
        'Answer with the JSON object {"level": ..., "plan": [...]} only.'
    )
    return [{"role": "system", "content": system_ground()}, {"role": "user", "content": user}]


def plan_messages(scene: dict[str, Any], task: str, knowledge: Sequence[dict[str, Any]] = ()) -> list[Message]:
    """Chat messages asking for ``{"plan": [...]}`` for ``task``."""
    user = (
        f"Scene objects (positions in metres, robot base frame):\n{format_scene(scene)}\n\n"
        f"Knowledge remembered from earlier episodes:\n{format_knowledge(knowledge)}\n\n"
        f'Task: "{task}"\n\n'
        'Answer with the JSON object {"plan": [...]} only.'
    )
    return [{"role": "system", "content": system_plan()}, {"role": "user", "content": user}]


def to_plain_prompt(messages: Sequence[Message]) -> str:
    """A plain-text prompt for models without a chat template; ends where the answer should start."""
    parts = []
    for m in messages:
        role = m["role"]
        if role == "system":
            parts.append(m["content"])
        else:
            parts.append(f"### {role.capitalize()}\n{m['content']}")
    parts.append("### Answer (JSON)\n")
    return "\n\n".join(parts)


# --- the compact prompt: a short system prompt, the case in a few lines, retrieved examples, an edit answer ----
SYSTEM_EDIT = """\
You turn a user's spoken correction of a robot arm into one JSON edit of its plan. Answer with the JSON object only.
Directions (the user stands behind the robot): left +y, right -y, forward/further/away +x, back/closer/toward me -x, up/higher +z, \
down/lower -z (metres); yaw in radians, counter-clockwise +, clockwise -. Sizes: "a bit" 0.012 m or 0.17 rad; no size word 0.03 m or \
0.44 rad; "a lot" 0.08 m or 1.05 rad; a said number is taken as said (3 cm = 0.03).
Answers:
{"level": "skill", "changes": [{"arg": "offset", "op": "add", "value": [dx, dy, dz]}]} also "yaw" add, "speed" / "force" / "height" \
scale (0.6 slower, gentler or lower; 1.5 faster, firmer or higher);
{"level": "plan", "changes": [{"arg": "object" or "target", "op": "set", "value": NAME}]} or {"level": "plan", "append": {"object": NAME, "target": NAME}};
{"level": "stop"}; {"level": "none"} for praise; {"level": "none", "question": "..."} when unclear."""


def compact_scene(scene: dict[str, Any], positions: bool = True) -> str:
    """The objects on one line: ``name at [x, y, z]; ...`` (m, base frame, 2 decimals), or names only."""
    objs = scene.get("objects", []) if isinstance(scene, dict) else []
    if not positions:
        return "; ".join(str(o.get("name")) for o in objs) or "(none)"
    return "; ".join(f'{o.get("name")} at [{", ".join(f"{float(v):.2f}" for v in o.get("position", ()))}]' for o in objs) or "(none)"


SYSTEM_LORA = "Ground the user's correction of the robot arm as one JSON edit of its plan."


@dataclass(frozen=True)
class EditStyle:
    """How the edit prompt is written: the system prompt and whether object positions are shown.

    ``full`` (default) teaches the answer forms in the system prompt; ``lora-v1`` is the short prompt a
    LoRA adapter of :mod:`agent.llm.lora` was trained on (the adapter knows the forms; names only, so a
    training sequence is about 130 tokens instead of 500). An adapter records its style and the ``hf``
    backend prompts with it.
    """

    name: str = "full"
    system: str = SYSTEM_EDIT
    positions: bool = True


STYLES = {"full": EditStyle(), "lora-v1": EditStyle("lora-v1", SYSTEM_LORA, False)}


def compact_plan(plan: Sequence[dict[str, Any]]) -> str:
    """Steps on one line: ``0 pick red block; 1 place green bowl (speed 1.35)``: arguments that differ from their defaults only."""
    parts = []
    for i, c in enumerate(plan):
        spec = SKILLS.get(c.get("skill", ""))
        args = c.get("args", {})
        name = args.get("object") or args.get("target") or ""
        extra = []
        for k, v in args.items():
            if k in ("object", "target") or spec is None:
                continue
            try:
                d = spec.param(k).default
            except (KeyError, ValueError, AttributeError):
                d = None
            if _round(list(v) if isinstance(v, tuple) else v) != _round(list(d) if isinstance(d, tuple) else d):
                extra.append(f"{k} {json.dumps(_round(v))}")
        parts.append(f"{i} {c.get('skill')} {name}".rstrip() + (f" ({', '.join(extra)})" if extra else ""))
    return "; ".join(parts)


def edit_messages(
    scene: dict[str, Any],
    task: str,
    plan: Sequence[dict[str, Any]],
    step: int,
    history: Sequence[dict[str, Any]],
    utterance: str,
    examples: Sequence[Any] = (),
    style: EditStyle = EditStyle(),
) -> list[Message]:
    """Chat messages asking for an edit (:mod:`agent.llm.edits`) after ``utterance``.

    ``examples``: :class:`agent.llm.examples.Example` objects, given as earlier chat turns (the user says
    the example's utterance, the assistant answers its edit), so that even a small model without
    constrained decoding answers in the same form; none for zero-shot. The last user turn carries the
    case: objects, plan, step, earlier corrections and the utterance. ``style``: :class:`EditStyle`.
    """
    lines = [f"Objects: {compact_scene(scene, style.positions)}", f"Plan: {compact_plan(plan)}"]
    if 0 <= step < len(plan):
        lines.append(f"Now at step {step} ({plan[step].get('skill')})")
    if history:
        lines.append("Said before: " + "; ".join(f'"{h.get("utterance", "")}"' for h in history))
    before = f'(after "{history[-1].get("utterance", "")}") ' if history else ""
    lines.append(f'{before}"{utterance}" ->')
    messages: list[Message] = [{"role": "system", "content": style.system}]
    for e in examples:
        said, answer = e.line().split(" -> ", 1)
        messages += [{"role": "user", "content": f"{said} ->"}, {"role": "assistant", "content": answer}]
    return messages + [{"role": "user", "content": "\n".join(lines)}]
