"""Pieces of `robocorrect bench speech`: WER and the end-pointing delay measured on the real-time clock."""
from __future__ import annotations

import pytest

from agent.bench.speech import _endpoint_delay, wer


def test_wer_folds_case_and_punctuation() -> None:
    assert wer(["Move it a bit left."], ["move it a bit left"]) == 0.0
    assert wer(["a bit to the left"], ["I'm it to the left"]) == pytest.approx(2 / 5)


def test_endpoint_delay_is_the_closing_silence_and_a_little_more(say) -> None:
    from speech.segment import VadSegmenter
    from speech.sources import read_wav
    from speech.tts import speech_span

    audio = read_wav(say("turn it clockwise", pad_s=1.0))
    end = speech_span(audio)[1]
    d = _endpoint_delay(VadSegmenter("energy", end_silence_s=0.3), audio, end)
    assert 0.25 <= d <= 0.8  # the 0.3 s closing silence, plus the gate's lag and the processing
