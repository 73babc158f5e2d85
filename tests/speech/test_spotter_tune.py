"""The stop spotter's tuning: its own training speech holds no test utterance, and the tuned point loads."""
from __future__ import annotations

import json
import re

import pytest

from speech.base import SpeechError
from speech.spotter import TUNED, load_tuning


def _fold(s: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", s.lower()).split())


def test_training_speech_holds_no_test_utterance(test_utterances: set[str]) -> None:
    """The burst spotter's training phrases are none of the test utterances (dev cases, held-out corrections,
    the dev phrase bank's phrases of 3+ words) nor a stop phrase of the bench."""
    from agent.bench.speech import STOP_PHRASES
    from agent.bench.spotter_tune import training_phrases

    test = test_utterances | {_fold(p) for p in STOP_PHRASES}
    stops, other, long = training_phrases()
    assert stops and other and long
    assert not [p for p in stops + other + long if _fold(p) in test]


def test_tuned_point_loads_and_bad_files_are_refused(tmp_path) -> None:
    t = load_tuning()
    assert 0.0 < t.threshold < 1.0 and t.close_silence_s > 0
    if TUNED.is_file():
        assert "never tuned on the bench speech test corpus" in json.loads(TUNED.read_text())["_doc"]
    bad = tmp_path / "s.json"
    bad.write_text(json.dumps({"model": "base", "threshold": 2, "close_silence_s": 0.1, "vad": "silero"}))
    with pytest.raises(SpeechError, match="threshold"):
        load_tuning(bad)
    bad.write_text("{")
    with pytest.raises(SpeechError, match="cannot read"):
        load_tuning(bad)
