"""Undoing what a recogniser does to words before the model reads them (agent.grounder.spelling)."""
from __future__ import annotations

from agent.grounder.spelling import lexicon, respell, strip_restate


def test_restatement_lead_in_is_dropped():
    assert strip_restate("I said use a firmer grip") == "use a firmer grip"
    assert strip_restate("like I said, a bit lower") == "a bit lower"
    assert strip_restate("I said") == "I said"  # nothing left: kept as it was
    assert strip_restate("I meant the blue block") == "I meant the blue block"


def test_near_miss_words_are_read_as_the_grammar_word():
    known = {"squeeze", "it", "use", "a", "firmer"}
    assert respell("squeeze it harter", known) == ("squeeze it harder", {"harter": "harder"})
    assert respell("use a firmer grep", known)[0] == "use a firmer grip"
    # known words, short words, contractions and words far from any grammar word stay
    assert respell("dip down a little", {"down", "a", "little"})[0] == "dip down a little"
    assert respell("it didn't go in", set())[0] == "it didn't go in"
    assert respell("zzzzqq", set()) == ("zzzzqq", {})
    assert "harder" in lexicon() and "grip" in lexicon()


def test_colour_and_kind_words_are_never_respelled():
    from agent.grounder.policy import SCENE_WORDS

    assert respell("the small green black", SCENE_WORDS | {"the", "small"}) == ("the small green black", {})


def test_a_users_own_word_is_not_respelled_into_another_language():
    """'port' is one letter from 'por' (a Spanish non-correction the grammar trains on): it stays 'port', so the
    robot asks about the word and the user can say it in other words (and the logs can teach it)."""
    from agent.grounder.spelling import lexicon, respell

    assert respell("a good bit to port", set())[0] == "a good bit to port"
    assert not {"por", "favor", "despacio"} & lexicon()


def test_a_misheard_colour_before_a_kind_word_is_read_as_the_colour() -> None:
    """'the blew block' is what a recogniser writes for 'the blue block': with no blue block in the scene the robot
    asks (it picked the small red block before), with one it takes it; 'read' stays a verb where no kind word follows."""
    from agent.grounder.scene_words import kind_sound_alikes
    from tests.agent.grounder_helpers import obj, pick_place, scene_rgby, shipped_policy

    objs = scene_rgby()["objects"]
    assert kind_sound_alikes("no, take the blew block", objs) == ("no, take the blue block", {"blew": "blue"})
    assert kind_sound_alikes("no, the read one", objs)[0] == "no, the red one"
    assert kind_sound_alikes("read the label first", objs) == ("read the label first", {})
    no_blue = {"objects": [o for o in objs if o["color"] != "blue"] + [obj("small red block", "block", "red", 0.03, 0.5, 0.0)]}
    g = shipped_policy().ground(no_blue, "put the red block in the green bowl", pick_place(), 0, [], [], "take the blew block")
    assert g.level == "none" and g.question.startswith("there is no blue block")
    g = shipped_policy().ground(scene_rgby(), "put the red block in the green bowl", pick_place(), 0, [], [], "take the blew block")
    assert g.plan[0]["args"]["object"] == "blue block"
