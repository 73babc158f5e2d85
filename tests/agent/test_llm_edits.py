"""agent.llm.edits, agent.llm.examples and the do-nothing rule of agent.llm.parse: the compact answer a
small model writes, the examples it is shown, and what is rejected."""
from __future__ import annotations

import json

import pytest
import regex

from agent.llm import edits, parse
from agent.llm.examples import ExampleBank, corpus_answer, knowledge_examples
from agent.policy import PolicyError
from skills.schema import validate_plan

SCENE = {"objects": [
    {"name": "red block", "kind": "block", "color": "red", "size": 0.04, "position": [0.5, 0.1, 0.02]},
    {"name": "blue block", "kind": "block", "color": "blue", "size": 0.04, "position": [0.55, -0.1, 0.02]},
    {"name": "green bowl", "kind": "bowl", "color": "green", "size": 0.16, "position": [0.4, -0.2, 0.03]},
]}
PLAN = validate_plan([{"skill": "pick", "args": {"object": "red block"}}, {"skill": "place", "args": {"target": "green bowl"}}], SCENE)


def _ground(edit: dict, step: int = 1):
    return parse.parse_grounding(json.dumps(edits.to_plan_answer(edit, PLAN, step)), SCENE, PLAN)


def test_offset_yaw_and_scales_land_on_the_right_steps():
    g = _ground({"level": "skill", "changes": [{"arg": "offset", "op": "add", "value": [0, 0.012, 0]},
                                               {"arg": "force", "op": "scale", "value": 1.5}]})
    assert g.level == "skill"
    assert g.plan[1]["args"]["offset"] == [0.0, 0.012, 0.0]  # the step being corrected
    assert g.plan[0]["args"]["force"] == 30.0  # force belongs to the pick of the pair
    g = _ground({"level": "skill", "changes": [{"arg": "yaw", "op": "add", "value": -0.17}, {"arg": "speed", "op": "scale", "value": 0.6}]}, 0)
    assert g.plan[0]["args"]["yaw"] == pytest.approx(-0.17) and g.plan[0]["args"]["speed"] == pytest.approx(0.6)


def test_plan_edits_retarget_and_append():
    g = _ground({"level": "plan", "changes": [{"arg": "object", "op": "set", "value": "blue block"}]})
    assert g.plan[0]["args"]["object"] == "blue block" and g.level == "plan"
    g = _ground({"level": "plan", "append": {"object": "blue block", "target": "green bowl"}})
    assert [s["skill"] for s in g.plan] == ["pick", "place", "pick", "place"] and g.plan[2]["args"]["object"] == "blue block"


@pytest.mark.parametrize("edit, msg", [
    ({"level": "skill", "changes": []}, "plan is unchanged"),  # claims a change, makes none
    ({"level": "skill", "changes": [{"arg": "speed", "op": "scale", "value": 1.0}]}, "plan is unchanged"),
    ({"level": "plan", "changes": [{"arg": "object", "op": "set", "value": "red block"}]}, "plan is unchanged"),
    ({"level": "none", "changes": [{"arg": "speed", "op": "scale", "value": 0.5}]}, "level 'none' but changed the plan"),
    ({"level": "skill", "changes": [{"arg": "offset", "op": "add", "value": [0, 0.4, 0]}]}, "outside the safe range"),
    ({"level": "plan", "changes": [{"arg": "object", "op": "set", "value": "purple block"}]}, "no purple block"),
    ({"level": "skill", "changes": [{"arg": "offset", "op": "scale", "value": [2, 2, 2]}]}, "not 'scale'"),
    ({"level": "skill", "changes": [{"arg": "width", "op": "add", "value": 1}]}, "has no argument 'width'"),
    ({"level": "skill", "plan": []}, "unexpected keys"),
    ({"level": "plan", "changes": [{"arg": "offset", "op": "add", "value": [0, 0.01, 0]}]}, "that is level 'skill'"),
    ({"level": "maybe"}, "unknown level"),
])
def test_bad_edits_are_rejected(edit, msg):
    with pytest.raises(PolicyError, match=msg):
        _ground(edit)


def test_stop_and_none_keep_the_plan():
    assert _ground({"level": "stop"}).plan == PLAN
    g = _ground({"level": "none", "question": "which bowl?"})
    assert g.level == "none" and g.question == "which bowl?" and g.plan == PLAN


def test_pattern_accepts_every_corpus_answer_and_refuses_other_text():
    bank = ExampleBank(size=300, seed=1)
    names = {o["name"] for o in SCENE["objects"]}
    pat = regex.compile(edits.edit_pattern(SCENE))
    checked = 0
    for e in bank.examples:
        text = json.dumps(e.answer)
        if any(isinstance(v, str) and v not in names for v in _values(e.answer)):
            continue  # names of another scene
        assert pat.fullmatch(text), text
        checked += 1
    assert checked > 100
    assert pat.fullmatch('{"level": "skill", "changes": [{"arg": "offset", "op": "add", "value": [0, 0.01, 0]}]}')
    assert pat.fullmatch('{"level": "sk', partial=True)
    assert not pat.fullmatch('{"level": "maybe', partial=True)
    assert not pat.fullmatch('{"level": "plan", "changes": [{"arg": "object", "op": "set", "value": "purple', partial=True)


def _values(obj):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in ("value", "object", "target"):
                yield v
            yield from _values(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _values(v)


def test_corpus_answers_follow_the_contract_frame():
    lab = {"level": "skill", "hist": "new", "hmag": "same", "x": "none", "y": "+s", "z": "-n", "yaw": "-m",
           "speed": "-m", "force": "none", "height": "none", "plan_op": "none"}
    ans = corpus_answer({"labels": lab, "numbers": {"z": 0.005}, "history": []})
    assert ans == {"level": "skill", "changes": [{"arg": "offset", "op": "add", "value": [0.0, 0.012, -0.005]},
                                                 {"arg": "yaw", "op": "add", "value": -0.436},
                                                 {"arg": "speed", "op": "scale", "value": 0.6}]}


def test_retrieval_finds_near_phrasings_and_kb_entries_become_examples():
    bank = ExampleBank(size=600, seed=0)
    got = bank.search("grip it harder", 3)
    assert got and got[0].answer["changes"][0]["arg"] == "force"
    assert len({json.dumps(e.answer) for e in got}) == len(got)  # distinct answers
    kb = knowledge_examples([{"text": "blocks: grasp 1.5 cm lower", "effect": {"skill": "pick", "changes": [{"arg": "offset", "op": "add", "value": [0, 0, -0.015]}]}},
                             {"text": "retarget", "effect": {"plan_op": "x"}}])
    assert len(kb) == 1 and kb[0].source == "kb" and '"blocks: grasp 1.5 cm lower" -> {"level": "skill"' in kb[0].line()


def test_knowledge_base_entries_nearest_to_the_utterance_become_examples(tmp_path):
    from agent.llm.examples import KBExamples
    from memory.kb import KnowledgeBase

    kb = KnowledgeBase(tmp_path / "kb")
    kb.add({"text": "grasp small blocks 1.5 cm lower", "scope": "skill", "conditions": {"skill": "pick", "object_size": "small"},
            "effect": {"skill": "pick", "changes": [{"arg": "offset", "op": "add", "value": [0, 0, -0.015]}]}})
    kb.add({"text": "move slower near the tray", "scope": "skill", "conditions": {"skill": "place", "target_kind": "tray"},
            "effect": {"skill": "place", "changes": [{"arg": "speed", "op": "scale", "value": 0.6}]}})
    kb.close()
    got = KBExamples(str(tmp_path / "kb"), k=1).search("grab it a bit lower")
    assert [e.utterance for e in got] == ["grasp small blocks 1.5 cm lower"] and got[0].source == "kb"
    with pytest.raises(PolicyError, match="no knowledge base at"):
        KBExamples(str(tmp_path / "nope"))
