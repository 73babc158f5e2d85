"""Cutting the stream into utterances: hands-free (voice activity) and push-to-talk (a key toggles).

A terminal sees key presses but no key releases, so push-to-talk toggles: :meth:`PushToTalkSegmenter.toggle`
starts recording, the next call ends the utterance.
"""
from __future__ import annotations

import threading
import time
from typing import Optional

import numpy as np

from speech.base import CHUNK, SAMPLE_RATE, Chunk, Segment, Segmenter
from speech.vad import VadGate, frame_classifier


class VadSegmenter(Segmenter):
    """Hands-free: an utterance is a burst of speech that ends after ``end_silence_s`` of silence.

    ``vad``: 'webrtc' or 'energy' (:mod:`speech.vad`); ``min_speech_s``: shorter bursts (clicks, breaths)
    are dropped; ``max_utterance_s``: a longer one is cut there."""

    def __init__(self, vad: str = "webrtc", aggressiveness: int = 2, end_silence_s: float = 0.3,
                 min_speech_s: float = 0.12, max_utterance_s: float = 12.0) -> None:
        self.gate = VadGate(frame_classifier(vad, aggressiveness), close_silence_s=end_silence_s)
        self.end_silence_s = end_silence_s
        self.min_frames = max(1, round(min_speech_s * SAMPLE_RATE / CHUNK))
        self.max_frames = round(max_utterance_s * SAMPLE_RATE / CHUNK)
        self._frames: list[np.ndarray] = []
        self._start = 0.0

    def feed(self, chunk: Chunk) -> Optional[Segment]:
        ev = self.gate.feed(chunk.samples)
        if ev is not None and ev.kind == "open":
            self._frames = list(ev.frames)
            self._start = chunk.t - len(ev.frames) * CHUNK / SAMPLE_RATE
            return None
        if not self.gate.in_speech and ev is None:
            return None
        self._frames.append(chunk.samples)
        closed = ev is not None and ev.kind == "close"
        if closed or len(self._frames) >= self.max_frames:
            speech = self.gate.speech_frames
            if not closed:
                self.gate.reset()
            return self._segment(chunk, speech, trailing_s=self.end_silence_s if closed else 0.0)
        return None

    def _segment(self, chunk: Chunk, speech_frames: int, trailing_s: float) -> Optional[Segment]:
        frames, self._frames = self._frames, []
        if speech_frames < self.min_frames:
            return None
        return Segment(np.concatenate(frames), self._start, chunk.t - trailing_s, time.perf_counter())

    def flush(self) -> Optional[Segment]:
        if not self.gate.in_speech or not self._frames:
            return None
        speech = self.gate.speech_frames
        self.gate.reset()
        end = self._start + len(self._frames) * CHUNK / SAMPLE_RATE
        frames, self._frames = self._frames, []
        return Segment(np.concatenate(frames), self._start, end, time.perf_counter()) if speech >= self.min_frames else None

    def reset(self) -> None:
        self.gate.reset()
        self._frames = []


class PushToTalkSegmenter(Segmenter):
    """Records between two :meth:`toggle` calls (thread-safe: the key reader calls it, the audio thread feeds)."""

    def __init__(self, max_utterance_s: float = 30.0) -> None:
        self._on = threading.Event()
        self._stop_pending = threading.Event()
        self._frames: list[np.ndarray] = []
        self._start = 0.0
        self.max_frames = round(max_utterance_s * SAMPLE_RATE / CHUNK)

    @property
    def recording(self) -> bool:
        return self._on.is_set()

    def toggle(self) -> bool:
        """Start recording, or end the utterance being recorded; returns True when now recording."""
        if self._on.is_set():
            self._stop_pending.set()
            self._on.clear()
            return False
        self._stop_pending.clear()
        self._on.set()
        return True

    def feed(self, chunk: Chunk) -> Optional[Segment]:
        if self._on.is_set():
            if not self._frames:
                self._start = chunk.t - CHUNK / SAMPLE_RATE
            self._frames.append(chunk.samples)
            if len(self._frames) >= self.max_frames:
                self._on.clear()
                return self._close(chunk.t)
            return None
        if self._stop_pending.is_set() and self._frames:
            self._stop_pending.clear()
            return self._close(chunk.t)
        return None

    def _close(self, t: float) -> Segment:
        frames, self._frames = self._frames, []
        return Segment(np.concatenate(frames), self._start, t, time.perf_counter())

    def flush(self) -> Optional[Segment]:
        if not self._frames:
            return None
        end = self._start + len(self._frames) * CHUNK / SAMPLE_RATE
        self._on.clear()
        return self._close(end)

    def reset(self) -> None:
        self._on.clear()
        self._stop_pending.clear()
        self._frames = []
