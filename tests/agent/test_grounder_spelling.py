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
