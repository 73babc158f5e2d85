"""The user's own direction words, from hindsight examples, and the generated sentences that teach them."""
from __future__ import annotations

from agent.grounder.phrases import is_blocked
from agent.learn.lexicon import LexiconConfig, examples, user_words


def ex(text: str, **lab: str) -> dict:
    labels = {"level": "skill", "hist": "new", "x": "none", "y": "none", "z": "none", "yaw": "none", "speed": "none",
              "force": "none", "height": "none", **lab}
    return {"kind": "ground", "utterance": text, "labels": labels}


def test_words_outside_the_vocabulary_tied_to_one_direction() -> None:
    logged = [ex("heaps to port", y="+l"), ex("bring her to port", y="+m"), ex("a skosh to starboard", y="-s"),
              ex("nudge her aft", x="-s"),  # seen once: could be an ASR slip
              ex("wiggle it", y="+m"), ex("wiggle it", x="-m"),  # no one direction
              ex("move it to the left", y="+m"), ex("left a bit", y="+s"),  # a word the policy knows
              ex("starboard grip", force="+m"), ex("starboard", y="-m")]  # 2 of 3 agree: below the purity
    words = user_words(logged, vocab={"left", "move", "it", "to", "the", "a", "bit", "heaps", "bring", "her", "skosh", "nudge", "grip"})
    assert words == {"port": "+y"}
    assert user_words(logged, vocab={"left"}, cfg=LexiconConfig(min_seen=1, purity=0.6))["starboard"] == "-y"


def test_generated_sentences_say_the_word_with_corpus_labels() -> None:
    out = examples({"port": "+y", "for'ard": "+x"}, LexiconConfig(per_word=40, seed=3))
    assert len(out) == 80
    for e in out:
        lab = e["labels"]
        axis = "y" if e["word"] == "port" else "x"
        assert lab[axis][0] == "+" and lab["active"] == axis and lab["level"] == "skill" and e["source"] == "lexicon"
        assert all(lab[a] == "none" for a in ("x", "y", "z") if a != axis)
        assert not is_blocked(e["utterance"]) and e["plan"] and e["scene"]["objects"]
        if lab[axis].endswith("n"):
            assert e["numbers"][axis] > 0
    assert sum(e["word"] in e["utterance"].lower() for e in out) > 60  # ASR noise garbles a few, as in the corpus
    assert examples({"port": "+y"}, LexiconConfig(per_word=5, seed=3)) == examples({"port": "+y"}, LexiconConfig(per_word=5, seed=3))


def test_the_users_phrasings_are_said_again_with_every_direction() -> None:
    from agent.learn.lexicon import _frames_of, frames

    words = {"port": "+y", "for'ard": "+x"}
    vocab = {"a", "good", "bit", "to", "bring", "her", "hard", "heaps", "um"}
    logged = [ex("a good bit to port", y="+m"), ex("a good bit for'ard", x="+m"),  # one phrasing, said twice: medium
              ex("bring her um to port", y="+m"),  # seen once, in known words: could be a slip
              ex("hard to port", y="-m"),  # the label moves against the word: not the user's phrasing
              ex("a good bit to port", y="+m", z="-s"),  # two axes: no one direction
              ex("wobble it port", y="+l")]  # a word of the user's own ("wobble"): counts once
    found = dict((tuple(f), m) for f, m in _frames_of(logged, words, vocab))
    assert found == {("a good bit to {}", "a good bit {}"): "m", ("wobble it {}",): "l"}
    out = frames(logged, words, LexiconConfig(per_frame=30, seed=1), vocab)
    assert len(out) == 60 and all(e["source"] == "frame" for e in out)
    dirs = set()
    for e in out:
        lab = e["labels"]
        moved = [a for a in ("x", "y", "z") if lab[a] != "none"]
        assert len(moved) == 1 and lab["active"] == moved[0] and lab["level"] == "skill"
        assert lab[moved[0]][1:] == ("m" if "good" in e["frame"] else "l")
        dirs.add(lab[moved[0]][0] + moved[0])
        assert not is_blocked(e["utterance"])
    assert dirs == {"+x", "-x", "+y", "-y", "+z", "-z"}  # every direction, not only the one said
    assert any("good bit" in e["utterance"] and "starboard" not in e["utterance"] and e["labels"]["y"] == "-m" for e in out)


def test_only_taught_words_join_the_vocabulary() -> None:
    from agent.learn.data import taught_vocabulary

    logged = [{**ex("a good bit aft", x="-m"), "source": "restated"},  # "aft" in one labelled utterance only
              {**ex("bring her to port", y="+m"), "source": "restated"}, {**ex("belay it tighter", force="+m"), "source": "kept"},
              {**ex("belay tighter", force="+m"), "source": "kept"},
              {**ex("a good bitt backwaards", x="-m"), "source": "lexicon"},  # ASR slips of a generated sentence
              {**ex("blorf it please"), "source": "contrast"}, {**ex("move lefft")}]  # nonce word; replay
    v = taught_vocabulary(logged, {"for'ard": "+x", "port": "+y"})
    assert {"belay", "tighter", "port", "ard"} <= v
    assert not v & {"aft", "bitt", "backwaards", "blorf", "lefft", "bring"}


def test_a_phrasing_said_again_never_gives_an_evaluation_utterance() -> None:
    from agent.learn.lexicon import frames

    assert is_blocked("a tad forward")  # a development-set utterance (hashed in agent/grounder/data/blocked.json)
    logged = [ex("a tad for'ard", x="+s"), ex("um a tad for'ard", x="+s")]
    out = frames(logged, {"for'ard": "+x"}, LexiconConfig(per_frame=300, seed=2), {"a", "tad", "please"})
    assert out and not any(is_blocked(e["utterance"]) for e in out)
    assert all(e["utterance"].lower().strip(" .!?") != "a tad forward" for e in out)


def test_the_users_turning_phrasings_are_said_again_turning_both_ways() -> None:
    """A labelled turn that says the user's left / right word the way it turns ("swing her port", +yaw: port is left,
    counter-clockwise is a turn to the left) is a turning phrasing; it is said again turning each way, and its own
    words join the vocabulary. A turn says nothing for or against the user's direction words."""
    from agent.learn.data import taught_vocabulary
    from agent.learn.lexicon import _frames_of, turn_frames, turn_words

    words = {"port": "+y", "starboard": "-y", "for'ard": "+x"}
    vocab = {"to", "her", "rotate", "left", "right", "a", "good", "bit"}
    logged = [ex("swing her port", yaw="+m"), ex("come about to starboard, rotate right", yaw="-m"),
              ex("come about to port, rotate right", yaw="+m"),  # a plain word against the turn: not one phrasing
              ex("swing her for'ard", yaw="+m"),  # not a side word
              ex("swing her starboard", yaw="+m"),  # the word against the turn
              ex("swing her port", yaw="+m", y="+m"),  # turns and moves: not a turn only
              ex("a good bit to port", y="+m"), ex("a good bit to port", y="+m")]
    found = dict((tuple(f), m) for f, m in _frames_of(logged, words, vocab, turns=True))
    assert found == {("swing her {}",): "m", ("come about to {} rotate {p}",): "m"}
    assert dict((tuple(f), m) for f, m in _frames_of(logged, words, vocab)) == {("a good bit to {}",): "m"}  # offsets unchanged
    out = turn_frames(logged, words, LexiconConfig(per_frame=20, seed=4), vocab)
    assert len(out) == 40 and all(e["turn"] and e["source"] == "frame" for e in out)
    for e in out:
        lab = e["labels"]
        assert lab["active"] == "yaw" and lab["yaw"][1:] == "m" and all(lab[a] == "none" for a in ("x", "y", "z"))
        text = e["utterance"].lower()
        words_said = set(text.replace(",", " ").split())
        assert not words_said & ({"starboard", "clockwise"} if lab["yaw"][0] == "+" else {"port", "left", "counterclockwise"})
        assert not is_blocked(e["utterance"])
    assert {e["labels"]["yaw"][0] for e in out} == {"+", "-"}
    assert {"swing", "come", "about"} <= turn_words(out) and "{p}" not in turn_words(out)
    assert {"swing", "about"} <= taught_vocabulary(out)
    # a labelled turn is no evidence against "port" meaning left
    assert user_words(logged[:2] + logged[-2:], vocab)["port"] == "+y"
