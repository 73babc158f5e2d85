"""The speech vocabulary: data, validated, no evaluation utterance in it."""
from __future__ import annotations

import json

import pytest

from speech.base import SpeechError
from speech.vocab import is_stop_phrase, load_vocabulary, prompt_words


def test_vocabulary_loads_and_names_the_scene_first() -> None:
    v = load_vocabulary()
    assert v.stop_words == ("stop", "wait", "halt")
    words = prompt_words({"objects": [{"name": "red block"}]})
    assert words[0] == "red block" and "left" in words


def test_bad_vocabulary_is_refused(tmp_path) -> None:
    p = tmp_path / "v.json"
    p.write_text(json.dumps({"stop_words": ["stop now"], "correction_words": ["left"], "grammar_words": ["a"]}))
    with pytest.raises(SpeechError, match="single lower-case words"):
        load_vocabulary(str(p))


def test_stop_phrase() -> None:
    assert is_stop_phrase("Stop!", ("stop",)) and is_stop_phrase("stop now please", ("stop",))
    assert not is_stop_phrase("stop a bit lower", ("stop",))
