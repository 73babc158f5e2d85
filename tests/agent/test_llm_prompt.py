"""agent.llm.prompt: the prompt carries the scene, task, plan, step, history, knowledge, contract and schema."""
from __future__ import annotations

import json

from agent.llm import prompt

SCENE = {
    "objects": [
        {"name": "red block", "kind": "block", "color": "red", "size": 0.04, "position": [0.5, 0.1, 0.02]},
        {"name": "green bowl", "kind": "bowl", "color": "green", "size": 0.16, "position": [0.55, -0.1, 0.03]},
    ]
}
PLAN = [
    {"skill": "pick", "args": {"object": "red block", "offset": [0.0, 0.0, -0.0123456], "force": 20.0}},
    {"skill": "place", "args": {"target": "green bowl", "offset": [0.0, 0.02, 0.0]}},
]
KNOWLEDGE = [{"text": "the green bowl: place 2 cm left of centre", "effect": {"skill": "place", "arg": "offset", "delta": [0, 0.02, 0]}}]
HISTORY = [{"utterance": "move left", "step": 1}]


def _ground_text() -> tuple[str, str]:
    sys_, user = prompt.ground_messages(SCENE, "put the red block in the green bowl", PLAN, 1, HISTORY, KNOWLEDGE, "a bit more")
    assert sys_["role"] == "system" and user["role"] == "user"
    return sys_["content"], user["content"]


def test_ground_prompt_carries_the_case():
    _, user = _ground_text()
    assert '"red block": block, colour red, size 0.040 m, position [0.500, 0.100, 0.020] m' in user
    assert '"green bowl": bowl, colour green' in user
    assert 'Task: "put the red block in the green bowl"' in user
    assert '0: {"skill": "pick", "args": {"object": "red block", "offset": [0.0, 0.0, -0.0123], "force": 20.0}}' in user
    assert "1: {\"skill\": \"place\"" in user
    assert "Step being corrected (executing, or last executed): 1 (place)" in user
    assert '1. step 1: "move left"' in user
    assert "the green bowl: place 2 cm left of centre" in user and '"delta": [0, 0.02, 0]' in user
    assert 'Utterance: "a bit more"' in user


def test_ground_system_prompt_carries_contract_skills_and_schema():
    sys_, _ = _ground_text()
    for needle in ('"left" is +y', '"right" is -y', "+x", "counter-clockwise", "0.5 to 2 cm", "4 to 20 cm", '"More"',
                   "harder / firmer", "Metres, radians"):
        assert needle in sys_, needle
    assert "- pick:" in sys_ and "force (number N in [2, 100], default 20.0)" in sys_
    assert "offset ([x, y, z] m in [-0.15, 0.15] each" in sys_
    assert "'left side' (0.5, 0.22)" in sys_
    for lv in ("skill", "plan", "stop", "none"):
        assert f'- "{lv}":' in sys_
    example = sys_.split("Answer: ", 1)[1]
    assert json.loads(example)["level"] == "skill"  # the example answer is itself valid JSON


def test_empty_history_and_knowledge_are_explicit():
    user = prompt.ground_messages(SCENE, "t", PLAN, 0, [], [], "stop")[1]["content"]
    assert "oldest first):\n(none)" in user and "earlier episodes:\n(none)" in user


def test_plan_prompt_and_plain_fallback():
    msgs = prompt.plan_messages(SCENE, "put the red block in the green bowl", KNOWLEDGE)
    assert '{"plan": [' in msgs[0]["content"] and '"question"' in msgs[0]["content"]
    assert "the green bowl: place 2 cm left of centre" in msgs[1]["content"]
    text = prompt.to_plain_prompt(msgs)
    assert text.startswith("You turn a task") and "### User\n" in text and text.endswith("### Answer (JSON)\n")
