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
