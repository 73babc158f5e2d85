"""agent.llm.parse: model text is parsed strictly and validated; nothing unvalidated gets through."""
from __future__ import annotations

import copy
import json

import pytest

from agent.llm.parse import extract_json, parse_grounding, parse_plan, plans_equal
from agent.policy import PolicyError
from skills.schema import validate_plan

SCENE = {
    "objects": [
        {"name": "red block", "kind": "block", "color": "red", "size": 0.04, "position": [0.5, 0.1, 0.02]},
        {"name": "blue block", "kind": "block", "color": "blue", "size": 0.04, "position": [0.45, -0.15, 0.02]},
        {"name": "green bowl", "kind": "bowl", "color": "green", "size": 0.16, "position": [0.55, -0.1, 0.03]},
    ]
}
PLAN = [{"skill": "pick", "args": {"object": "red block"}}, {"skill": "place", "args": {"target": "green bowl"}}]
FULL = validate_plan(PLAN, SCENE)


def _with(step: int, **args) -> list[dict]:
    p = copy.deepcopy(FULL)
    p[step]["args"].update(args)
    return p


def _answer(level: str, plan, **extra) -> str:
    return json.dumps({"level": level, "plan": plan, **extra})


# --- extract_json -------------------------------------------------------------------------------
def test_extract_first_object_from_prose_fences_and_think():
    assert extract_json('Sure! ```json\n{"a": {"b": "}"}}\n``` and {"c": 1}') == {"a": {"b": "}"}}
    assert extract_json('<think>maybe {"x": 1}</think>{"y": 2}') == {"y": 2}
    assert extract_json('use {braces} wisely: {"ok": true}') == {"ok": True}
    assert extract_json('{"s": "escaped \\" quote {"}') == {"s": 'escaped " quote {'}


@pytest.mark.parametrize(
    "text, msg",
    [
        ("I would move it left.", "no JSON object"),
        ('{"level": "skill", "plan": [', "unterminated"),
        ("{'level': 'skill'}", "not valid JSON"),
        ('{"a": 1, "a": 2}', "duplicate key"),
        ('{"a": NaN}', "NaN is not allowed"),
        ("[1, 2, 3]", "no JSON object"),
    ],
)
def test_extract_rejects_malformed(text, msg):
    with pytest.raises(PolicyError, match=msg):
        extract_json(text)


# --- parse_plan ---------------------------------------------------------------------------------
def test_parse_plan_fills_defaults_and_validates():
    out = parse_plan('{"plan": [{"skill": "pick", "args": {"object": "red block", "speed": 0.5}}, '
                     '{"skill": "place", "args": {"target": "left side"}}]}', SCENE)
    assert out[0]["args"]["speed"] == 0.5 and out[0]["args"]["force"] == 20.0
    assert out[1]["args"] == {"target": "left side", "offset": [0.0, 0.0, 0.0], "yaw": 0.0, "speed": 1.0, "height": 0.1}


@pytest.mark.parametrize(
    "text, msg",
    [
        ('{"steps": []}', "unexpected keys \\['steps'\\]"),
        ('{"plan": [{"skill": "fly", "args": {}}]}', "unknown skill 'fly'"),
        ('{"plan": [{"skill": "pick", "args": {"object": "purple block"}}]}', "there is no purple block; I see: red block, blue block, green bowl"),
        ('{"plan": [{"skill": "pick", "args": {"object": "red block", "force": 500}}]}', "outside the safe range"),
        ('{"plan": [{"skill": "pick", "args": {"object": "red block", "grip": 1}}]}', "does not take 'grip'"),
        ('{"plan": {"skill": "pick"}}', "must be a list"),
        ('{"plan": [], "question": "which bowl?"}', "could not plan this task: which bowl\\?"),
        ('{"plan": []}', "empty plan"),
    ],
)
def test_parse_plan_rejects(text, msg):
    with pytest.raises(PolicyError, match=msg):
        parse_plan(text, SCENE)


# --- parse_grounding ----------------------------------------------------------------------------
def test_skill_level_accepted_with_changes():
    after = _with(1, offset=[0.0, 0.015, 0.0])
    g = parse_grounding(_answer("skill", after), SCENE, PLAN)
    assert g.level == "skill" and g.plan == after and g.question is None
    assert g.changes == ["step 1 place: offset y +1.5 cm"]


def test_input_plan_is_not_mutated():
    before = copy.deepcopy(PLAN)
    parse_grounding(_answer("skill", _with(0, speed=0.5)), SCENE, PLAN)
    assert PLAN == before


def test_plan_level_retarget_and_insert():
    after = [FULL[0], {"skill": "place", "args": {"target": "center"}}]
    assert parse_grounding(_answer("plan", after), SCENE, PLAN).plan[1]["args"]["target"] == "center"
    ins = [FULL[0], {"skill": "move_to", "args": {"target": "back"}}, FULL[1]]
    g = parse_grounding(_answer("plan", ins), SCENE, PLAN)
    assert [c["skill"] for c in g.plan] == ["pick", "move_to", "place"]
    assert g.changes and g.changes[0].startswith("plan:")


@pytest.mark.parametrize("level", ["stop", "none"])
def test_stop_none_keep_plan(level):
    g = parse_grounding(_answer(level, FULL), SCENE, PLAN)
    assert g.level == level and g.plan == PLAN and g.plan is not PLAN and g.changes == []  # kept as the caller gave it
    # numbers within 1e-6 and defaults left out count as unchanged
    g = parse_grounding(_answer(level, [{"skill": "pick", "args": {"object": "red block", "speed": 1.0000000001}}, PLAN[1]]), SCENE, FULL)
    assert g.plan == FULL


@pytest.mark.parametrize("level", ["stop", "none"])
def test_stop_none_that_change_the_plan_are_rejected(level):
    with pytest.raises(PolicyError, match=f"level '{level}' but changed the plan.*offset y"):
        parse_grounding(_answer(level, _with(1, offset=[0.0, 0.02, 0.0])), SCENE, PLAN)


def test_skill_level_that_retargets_is_rejected():
    after = _with(1, target="center")
    with pytest.raises(PolicyError, match="level 'skill' but changed the skills or their object/target.*place\\(center\\)"):
        parse_grounding(_answer("skill", after), SCENE, PLAN)
    with pytest.raises(PolicyError, match="level 'skill'"):
        parse_grounding(_answer("skill", FULL[:1]), SCENE, PLAN)


def test_question_goes_with_unchanged_plan_and_level_none():
    g = parse_grounding(_answer("none", FULL, question="There is no purple block; which one?"), SCENE, PLAN)
    assert g.needs_clarification and g.question.startswith("There is no purple block")
    with pytest.raises(PolicyError, match="asked a question"):
        parse_grounding(_answer("skill", _with(0, speed=0.5), question="ok?"), SCENE, PLAN)
    with pytest.raises(PolicyError, match="question must be a string"):
        parse_grounding(_answer("none", FULL, question=3), SCENE, PLAN)


@pytest.mark.parametrize(
    "text, msg",
    [
        (_answer("move", FULL), "unknown level 'move'"),
        (json.dumps({"level": "skill"}), "lacks \\['plan'\\]"),
        (json.dumps({"level": "skill", "plan": FULL, "why": "x"}), "unexpected keys \\['why'\\]"),
        (_answer("skill", _with(1, offset=[0.0, 0.4, 0.0])), "place.offset\\[1\\] = 0.4 m is outside the safe range"),
        (_answer("plan", [FULL[0], {"skill": "place", "args": {"target": "purple bowl"}}]), "there is no purple bowl; I see: red block, blue block, green bowl; named spots"),
        (_answer("skill", _with(0, speed="fast")), "pick.speed must be a number"),
        (_answer("plan", [{"skill": "teleport", "args": {}}]), "unknown skill 'teleport'"),
        ("the robot should go left", "no JSON object"),
    ],
)
def test_grounding_rejects_malformed_or_unsafe(text, msg):
    with pytest.raises(PolicyError, match=msg):
        parse_grounding(text, SCENE, PLAN)


def test_plans_equal_tolerance():
    assert plans_equal(FULL, copy.deepcopy(FULL))
    assert not plans_equal(FULL, _with(0, speed=1.01))
    assert not plans_equal(FULL, FULL[:1])


def test_arguments_left_out_keep_their_current_values():
    current = _with(0, force=35.0, offset=[0.0, 0.0, -0.01])  # e.g. remembered knowledge already applied
    answer = _answer("skill", [{"skill": "pick", "args": {"object": "red block", "speed": 0.5}}, {"skill": "place", "args": {"target": "green bowl"}}])
    g = parse_grounding(answer, SCENE, current)
    assert g.plan[0]["args"]["force"] == 35.0 and g.plan[0]["args"]["offset"] == [0.0, 0.0, -0.01]
    assert g.changes == ["step 0 pick: speed 1 → 0.5"]
    # a compact "stop" is the same plan
    assert parse_grounding(_answer("stop", PLAN), SCENE, current).plan == current
    # a retargeted step does not inherit the old target's arguments
    moved = _with(1, offset=[0.0, 0.03, 0.0])
    g = parse_grounding(_answer("plan", [PLAN[0], {"skill": "place", "args": {"target": "center"}}]), SCENE, moved)
    assert g.plan[1]["args"]["offset"] == [0.0, 0.0, 0.0]
    # a reordered / inserted plan matches steps by skill and object/target
    g = parse_grounding(_answer("plan", [{"skill": "home", "args": {}}, {"skill": "pick", "args": {"object": "red block"}}, PLAN[1]]), SCENE, current)
    assert g.plan[1]["args"]["force"] == 35.0 and g.plan[2]["args"]["target"] == "green bowl"


def test_values_echoed_with_display_rounding_are_unchanged():
    current = _with(1, offset=[0.0, 0.012345678, 0.0], yaw=0.2617993877991494)
    echoed = _with(1, offset=[0.0, 0.0123, 0.0], yaw=0.2618)  # what the prompt showed
    g = parse_grounding(_answer("none", echoed), SCENE, current)
    assert g.plan == current
    moved = _with(1, offset=[0.0, 0.0223, 0.0], yaw=0.2618)
    g = parse_grounding(_answer("skill", moved), SCENE, current)
    assert g.plan[1]["args"]["yaw"] == 0.2617993877991494 and g.plan[1]["args"]["offset"][1] == 0.0223
    assert g.changes == ["step 1 place: offset y +1.0 cm"]
