"""Words known only from talk that changes nothing (agent/grounder/known_words.py): talk with a direction or speed word
in it ("could you turn the music down") asks instead of moving the arm, unless the reading is very sure."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from grounder_helpers import pick_place, scene_rgby, shipped_policy
from agent.grounder.known_words import add_to_checkpoint, chatter_vocabulary, vocabulary
from hardware.errors import UsageError

TASK = "put the red block in the green bowl"


def ex(text: str, level: str) -> dict:
    return {"kind": "ground", "utterance": text, "history": [], "labels": {"level": level}, "scene": {"objects": []}}


def test_chatter_words_are_content_words_said_only_where_nothing_changes() -> None:
    examples = ([ex("turn the music up", "unclear")] * 3 + [ex("my car is faster", "unclear")] * 3
                + [ex("the robot arm is new", "unclear")] * 3 + [ex("a bit faster please", "skill")]
                + [ex("coffee time", "unclear")] * 2 + [ex("nice weather", "unclear")] * 3 + [ex("nice, go on", "none")])
    words = chatter_vocabulary(examples)
    assert "music" in words and "car" in words
    assert "faster" not in words  # said in a correction too
    assert "the" not in words and "my" not in words  # function words say nothing about the topic
    assert "robot" not in words and "arm" not in words  # the robot is never off-topic
    assert "coffee" not in words  # said in only 2 sentences (min_seen 3)
    assert "weather" in words and "nice" not in words  # praise is about the robot's work: "nice, but a bit lower"
    assert {"music", "faster", "robot", "coffee"} <= set(vocabulary(examples))  # every word trained on


@pytest.mark.parametrize("utterance", ["could you turn the music down", "my car is faster than yours"])
def test_talk_with_a_direction_word_asks_and_changes_nothing(utterance: str) -> None:
    pl = pick_place()
    g = shipped_policy().ground(scene_rgby(), TASK, pl, 1, [], [], utterance)
    assert g.level == "none" and g.plan == pl and g.parsed["chatter_words"]
    assert "does not sound like a correction" in g.question


@pytest.mark.parametrize("utterance", ["a bit more to the left", "lower the arm a little", "I want it a little higher"])
def test_corrections_still_act(utterance: str) -> None:
    pl = pick_place()
    g = shipped_policy().ground(scene_rgby(), TASK, pl, 1, [], [], utterance)
    assert g.level == "skill" and g.plan != pl


def test_the_shipped_checkpoint_carries_its_chatter_list() -> None:
    from agent.learn.registry import shipped_checkpoint

    meta = json.loads((Path(shipped_checkpoint()) / "config.json").read_text())
    assert {"music", "car", "coffee"} <= set(meta["chatter"]) and "left" not in meta["chatter"]
    assert "arm" not in meta["chatter"]


def test_adding_the_list_refuses_a_checkpoint_its_corpus_does_not_reproduce(tmp_path: Path) -> None:
    from agent.grounder.corpus import generate

    cfg = {"train": {"seed": 3, "n_ground": 60, "n_plan": 10}, "vocab": ["left", "right"]}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(UsageError, match="grammar changed"):
        add_to_checkpoint(str(tmp_path))
    assert json.loads((tmp_path / "config.json").read_text()) == cfg  # nothing written
    cfg["vocab"] = vocabulary(generate(60, 10, 3, "train"))
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    add_to_checkpoint(str(tmp_path), min_seen=1)
    meta = json.loads((tmp_path / "config.json").read_text())
    assert isinstance(meta["chatter"], list) and set(meta["chatter"]) <= set(cfg["vocab"])
    with pytest.raises(UsageError, match="config.json"):
        add_to_checkpoint(str(tmp_path / "missing"))
