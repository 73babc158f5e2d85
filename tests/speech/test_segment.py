"""Hands-free (voice activity) and push-to-talk segmentation on spoken audio."""
from __future__ import annotations

import numpy as np

from speech.base import CHUNK, SAMPLE_RATE, Chunk
from speech.segment import PushToTalkSegmenter, VadSegmenter
from speech.sources import FileSource


def _chunks(paths, gap_s=0.8):
    with FileSource(paths, gap_s=gap_s) as src:
        return list(src.chunks())


def test_vad_cuts_two_utterances(say) -> None:
    a, b = say("move it a bit to the left"), say("slower please", "en-gb")
    seg = VadSegmenter("webrtc+energy")
    segs = [s for c in _chunks([a, b]) if (s := seg.feed(c)) is not None]
    last = seg.flush()
    segs += [last] if last else []
    assert len(segs) == 2
    assert segs[0].end_s < segs[1].start_s
    assert all(0.3 < (s.end_s - s.start_s) < 3.0 for s in segs)


def test_silence_makes_no_utterance() -> None:
    seg = VadSegmenter("energy")
    noise = (np.random.default_rng(1).standard_normal(SAMPLE_RATE * 2) * 0.003).astype(np.float32)
    out = [seg.feed(Chunk(noise[k:k + CHUNK], (k + CHUNK) / SAMPLE_RATE, 0.0)) for k in range(0, len(noise), CHUNK)]
    assert not any(out) and seg.flush() is None


def test_push_to_talk_records_between_toggles() -> None:
    ptt = PushToTalkSegmenter()
    z = np.zeros(CHUNK, np.float32)
    assert ptt.feed(Chunk(z, 0.02, 0)) is None  # not recording
    assert ptt.toggle() is True
    for i in range(10):
        assert ptt.feed(Chunk(z, 0.04 + 0.02 * i, 0)) is None
    assert ptt.toggle() is False
    seg = ptt.feed(Chunk(z, 0.3, 0))
    assert seg is not None and len(seg.audio) == 10 * CHUNK
