"""Silero VAD (the ONNX model in the silero-vad wheel) as the hands-free end-pointer, on spoken audio in noise."""
from __future__ import annotations

import numpy as np
import pytest

from speech.base import CHUNK, SAMPLE_RATE, Chunk, RecognizerError
from speech.segment import VadSegmenter
from speech.sources import FileSource, read_wav

pytest.importorskip("onnxruntime")
if __import__("importlib.util").util.find_spec("silero_vad") is None:
    pytest.skip("silero-vad is not installed (pip install 'robocorrect[speech]')", allow_module_level=True)


def _frames(audio: np.ndarray) -> list[np.ndarray]:
    return [audio[k:k + CHUNK] for k in range(0, len(audio) - CHUNK + 1, CHUNK)]


def test_silero_marks_speech_and_not_room_noise(say, tmp_path) -> None:
    from speech.silero import SileroVad
    from speech.tts import add_noise, speech_span

    clean = say("move it a little to the left", pad_s=0.8)
    noisy = read_wav(add_noise(clean, tmp_path / "n.wav", 10.0, seed=3))
    lo, hi = speech_span(read_wav(clean))
    vad = SileroVad()
    flags = [vad(f) for f in _frames(noisy)]
    t = (np.arange(len(flags)) + 1) * CHUNK / SAMPLE_RATE
    inside = [f for f, x in zip(flags, t) if lo + 0.15 < x < hi - 0.15]
    outside = [f for f, x in zip(flags, t) if x < lo - 0.1 or x > hi + 0.3]
    assert np.mean(inside) > 0.8  # speech under 10 dB room noise is still speech
    assert np.mean(outside) < 0.1  # and the noise alone is not


def test_silero_segmenter_cuts_one_utterance_from_noisy_audio(say, tmp_path) -> None:
    from speech.tts import add_noise

    wav = add_noise(say("rotate it a bit clockwise", "en-gb", pad_s=0.8), tmp_path / "n.wav", 10.0, seed=5)
    seg = VadSegmenter("silero", end_silence_s=0.3)
    with FileSource(wav) as src:
        segs = [s for c in src.chunks() if (s := seg.feed(c)) is not None]
    segs += [s for s in [seg.flush()] if s is not None]
    assert len(segs) == 1  # webrtc+energy breaks this one up in 10 dB noise
    assert 0.8 < segs[0].end_s - segs[0].start_s < 3.0


def test_silero_threshold_is_checked() -> None:
    from speech.silero import SileroVad

    with pytest.raises(RecognizerError, match="threshold"):
        SileroVad(threshold=1.5)


def test_silence_is_not_speech() -> None:
    from speech.silero import SileroVad

    vad = SileroVad()
    z = np.zeros(SAMPLE_RATE, np.float32)
    assert not any(vad(f) for f in _frames(z))
    vad.reset()
    assert vad.prob == 0.0 and not vad.speaking
    assert Chunk  # the chunk type the segmenter feeds is the same 20 ms frame
