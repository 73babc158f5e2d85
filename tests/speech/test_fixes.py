"""Choosing among Whisper's n-best and undoing its steady mishearings (speech.rescore, speech.fixes), and that
the recogniser's training speech and prompt hold no evaluation utterance."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from speech.base import SpeechError
from speech.fixes import apply_fixes, fold_words, load_fixes, plain_text
from speech.rescore import choose, in_lexicon_share

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = ROOT / "tests" / "speech" / "data" / "heldout_corrections.jsonl"


def _evaluation_utterances() -> set[str]:
    """Folded utterances of ../shared/eval (when present), the real phrasings and the speech held-out set."""
    from agent.grounder.phrases import evaluation_utterances, fold

    shared = ROOT.parent / "shared"
    out = set(evaluation_utterances(shared if (shared / "eval").is_dir() else None, [ROOT / "tests" / "data" / "real_corrections.jsonl"]))
    out |= {fold(json.loads(x)["utterance"]) for x in HELDOUT.read_text().splitlines() if x.strip()}
    dev = shared / "eval" / "grounding_dev.jsonl"
    if dev.is_file():
        out |= {fold(json.loads(x)["utterance"]) for x in dev.read_text().splitlines() if x.strip()}
    return out


def test_fixes_replace_longest_first_and_leave_other_text_alone() -> None:
    fixes = {("to", "want"): ("toward",), ("debris",): ("degrees",), ("want",): ("went",)}
    assert apply_fixes("Try to want the left.", fixes) == "try toward the left"
    assert apply_fixes("Turn it 20 debris", fixes) == "turn it 20 degrees"
    assert apply_fixes("Move it left, please.", fixes) == "Move it left, please."  # nothing applies: kept as heard
    assert apply_fixes("anything", {}) == "anything"
    assert fold_words("Counter-clockwise, 0.5 cm!") == ["counter", "clockwise", "0.5", "cm"]


def test_plain_text_drops_whisper_punctuation_only() -> None:
    assert plain_text("A bit lower, and more to the left.") == "a bit lower and more to the left"
    assert plain_text("Move it 0.5 cm, counter-clockwise! Don't.") == "move it 0.5 cm counter-clockwise don't"


def test_bad_fix_tables_are_refused(tmp_path) -> None:
    bad = tmp_path / "f.json"
    bad.write_text(json.dumps({"models": {"m": {"a b c d": "x"}}}))
    with pytest.raises(SpeechError):
        load_fixes("m", str(bad))
    bad.write_text("{not json")
    with pytest.raises(SpeechError):
        load_fixes("m", str(bad))
    assert load_fixes("m", str(tmp_path / "absent.json")) == {}


def test_shipped_fixes_load_and_hold_no_evaluation_utterance() -> None:
    from agent.grounder.phrases import fold

    raw = json.loads((ROOT / "speech" / "data" / "whisper_fixes.json").read_text())
    evals = {u for u in _evaluation_utterances() if len(u.split()) >= 3}
    for model, table in raw["models"].items():
        assert load_fixes(model)
        for heard, said in table.items():
            assert fold(heard) not in evals and fold(said) not in evals, (model, heard, said)


def test_the_nbest_choice_prefers_the_grounders_words() -> None:
    lex = {"a", "bit", "to", "the", "left"}
    hyps = [("I'm it to the left.", -0.20, 0.0), ("A bit to the left.", -0.35, 0.0), ("", 0.0, 0.0)]
    assert in_lexicon_share(hyps[1][0], lex) == 1.0
    assert choose(hyps, lex, 0.0) == 0  # Whisper's own choice
    assert choose(hyps, lex, 1.0) == 1
    assert choose([("", 0.0, 0.0), ("left", -2.0, 0.0)], lex, 0.0) == 1  # an empty text is never preferred


def test_the_prompt_holds_no_evaluation_utterance() -> None:
    """No clause of the prompt is an evaluation utterance of two or more words, and none of four or more words is
    inside it (one-word ones such as 'lower' and three-word ones such as 'to the left' are in every correction of
    that kind)."""
    import re

    from agent.grounder.phrases import fold
    from speech.whisper import WhisperRecognizer

    raw = WhisperRecognizer().prompt_prefix
    evals = _evaluation_utterances()
    clauses = {fold(c) for c in re.split(r"[,.;!?]", raw) if c.strip()}
    assert not {c for c in clauses & evals if len(c.split()) >= 2}, clauses & evals
    prompt = f" {fold(raw)} "
    hits = [u for u in evals if len(u.split()) >= 4 and f" {u} " in prompt]
    assert not hits, hits


def test_the_recognisers_training_speech_holds_no_evaluation_utterance() -> None:
    from agent.bench.asr_tune import training_cases
    from agent.grounder.phrases import fold

    evals = _evaluation_utterances()
    tune = training_cases(40)
    learn = training_cases(40, seed=23, avoid={fold(c["utterance"]) for c in tune})
    texts = [fold(c["utterance"]) for c in tune + learn]
    assert len(set(texts)) == len(texts) >= 70
    assert not set(texts) & evals
    assert all(c["expect"] for c in tune + learn)
