"""Constrained decoding's token set (speech.constrain), the domain bigram model (speech.lm), the prompt-echo
and loop checks, and that the bigram model holds no evaluation utterance."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from hardware.errors import UsageError
from speech.base import RecognizerError
from speech.config import SpeechConfig
from speech.lm import BigramLM, load_lm, tokens
from speech.rescore import choose, echoes
from speech.whisper import WhisperRecognizer, _cut_repeats

ROOT = Path(__file__).resolve().parents[2]


class _Tok:
    """A word-piece tokenizer of three-letter pieces (stands in for Whisper's BPE in the token-set test)."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}

    def encode(self, text: str, add_special_tokens: bool = False):  # noqa: ANN201 - mirrors tokenizers.Tokenizer
        pieces = re.findall(r" ?[^ ]{1,3}", text)
        ids = [self.vocab.setdefault(p, len(self.vocab)) for p in pieces]
        return type("Enc", (), {"ids": ids})()

    def token_to_id(self, name: str) -> int:
        assert name == "<|endoftext|>"
        return 1000


def test_the_constrained_token_set_spells_the_domains_words_and_no_others() -> None:
    from speech.constrain import allowed_tokens, suppressed_tokens

    tok = _Tok()
    ok = allowed_tokens(tok, ["gripper", "left"], "words")
    spaced = allowed_tokens(tok, ["gripper", "left"], "spaced")
    assert spaced <= ok
    for form in (" gripper", "gripper", " Left", " the"):  # "the": a common word (speech.constrain.COMMON)
        assert set(tok.encode(form).ids) <= ok
    assert set(tok.encode(" gripper").ids) <= spaced and not set(tok.encode("gripper").ids) <= spaced
    sup = suppressed_tokens(tok, ["gripper", "left"], "words")
    assert not sup & ok and len(sup) + len(ok) == 1000
    assert set(tok.encode(" zebra").ids) <= sup


def test_settings_are_checked() -> None:
    with pytest.raises(RecognizerError):
        WhisperRecognizer(constrain="grammar")
    with pytest.raises(UsageError):
        SpeechConfig(whisper_constrain="grammar")
    with pytest.raises(UsageError):
        SpeechConfig(whisper_lm_weight=-1.0)


def test_the_bigram_model_prefers_what_corrections_say() -> None:
    lm = BigramLM.count(["bring it toward me", "move it toward me a bit", "a bit to the left", "lower it a bit"])
    assert lm.logprob("bring it toward me") > lm.logprob("bring it to want me")
    assert lm.logprob("") == 0.0
    assert tokens("Lower it 0.05 m, OK?") == ["lower", "it", "0.05", "m", "ok"]
    hyps = [("Bring it to want me.", -0.20, 0.0), ("Bring it toward me.", -0.30, 0.0)]
    lex = {"bring", "it", "to", "want", "toward", "me"}
    assert choose(hyps, lex, 1.0) == 0
    assert choose(hyps, lex, 1.0, lm=lm.logprob, lm_weight=0.3) == 1


def test_the_packaged_bigram_model_loads_and_holds_no_evaluation_utterance() -> None:
    """No evaluation utterance of three or more words is spelled by a chain of the model's bigrams from
    start to end (with <s> and </s>): the model was counted without them."""
    from test_fixes import _evaluation_utterances  # tests/speech is on the path (no package)

    lm = load_lm()
    assert lm is not None
    raw = json.loads((ROOT / "speech" / "data" / "domain_lm.json").read_text())
    assert "no evaluation utterance" in raw["_doc"]
    # the counting phrases are not stored; check the generator that made them leaves every evaluation utterance out
    from agent.bench.asr_tune import lm_phrases
    from agent.grounder.phrases import fold

    evals = _evaluation_utterances()
    assert not {fold(p) for p in lm_phrases(2000, set(), seed="test")} & evals


def test_prompt_echoes_are_ranked_last() -> None:
    prompt = "Move it a little to the left, lower, slower, grip harder. Put it on the red block."
    assert echoes("Move it a little to the left, lower.", prompt)
    assert not echoes("you went over, back a bit", prompt)
    hyps = [("Move it a little to the left.", -0.1, 0.0), ("You went over, back a bit.", -0.5, 0.0)]
    assert choose(hyps, {"move", "it"}, 0.0) == 0
    assert choose(hyps, {"move", "it"}, 0.0, prompt) == 1


def test_loops_are_cut() -> None:
    assert _cut_repeats("One C.M.S.M.S.M.S.M.S.M.S.M.S.M.S.M.S.M.S").count("M.S") <= 2
    assert _cut_repeats("Twist the wrist counterclockwise by a lot. Twist the wrist counter clockwise by a lot.") == \
        "Twist the wrist counterclockwise by a lot."
    assert _cut_repeats("Bring the gripper in, I said lower. Bring the gripper in I said lower.") == "Bring the gripper in, I said lower."
    assert _cut_repeats("more more more more") == "more"
    assert _cut_repeats("way way more") == "way way more"
    assert _cut_repeats("Go 1000 millimeters") == "Go 1000 millimeters"
