"""Voice-activity detection, frame by frame: :class:`VadGate` turns 20 ms frames into speech bursts.

A burst opens on ``open_frames`` speech frames in a row (the ``pre_roll_s`` before it is kept, so the first
phoneme is not cut) and closes after ``close_silence_s`` of non-speech (three times that while it holds
less than ``min_speech_s`` of speech). Frame classifiers:
``"silero"`` (the Silero VAD network, :mod:`speech.silero`; ``aggressiveness`` 0-3 maps to a speech
threshold of 0.35-0.65), ``"webrtc"`` (webrtcvad, aggressiveness 0-3), ``"energy"`` (RMS above an adaptive noise floor; no
dependency) and ``"webrtc+energy"`` (both must agree: webrtcvad alone calls steady room noise speech). Used by :class:`speech.segment.VadSegmenter` and the stop spotter.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from speech.base import CHUNK, SAMPLE_RATE, RecognizerError, to_int16

VAD_KINDS = ("silero", "webrtc", "energy", "webrtc+energy")


def frame_classifier(kind: str = "webrtc", aggressiveness: int = 2) -> Callable[[np.ndarray], bool]:
    """A function float32 frame of :data:`CHUNK` samples -> is it speech."""
    if kind == "webrtc+energy":
        web, loud = frame_classifier("webrtc", aggressiveness), frame_classifier("energy")
        return lambda frame: loud(frame) and web(frame)
    if kind == "silero":
        from speech.silero import SileroVad

        return SileroVad(threshold=0.35 + 0.1 * int(aggressiveness))
    if kind == "webrtc":
        try:
            import webrtcvad
        except ImportError as e:
            raise RecognizerError("voice activity detection 'webrtc' needs webrtcvad: pip install 'robocorrect[speech]' "
                                  "(or choose vad 'energy')") from e
        vad = webrtcvad.Vad(int(aggressiveness))
        return lambda frame: bool(vad.is_speech(to_int16(frame).tobytes(), SAMPLE_RATE))
    if kind == "energy":
        state = {"floor": 0.0}

        def energy(frame: np.ndarray) -> bool:
            # the noise floor follows quiet frames down at once and creeps up 0.5 % a frame (x2 in ~3 s),
            # so steady room noise becomes the floor and speech stands 8 dB above it
            rms = float(np.sqrt(np.mean(frame.astype(np.float64) ** 2)) + 1e-6)
            floor = state["floor"] or rms
            state["floor"] = rms if rms < floor else floor * 1.005
            return rms > 2.5 * floor

        return energy
    raise RecognizerError(f"unknown voice activity detector {kind!r}; known: {', '.join(VAD_KINDS)}")


@dataclass
class VadEvent:
    """``kind`` 'open' (``frames`` = the pre-roll plus the opening frames) or 'close' (``frames`` empty)."""

    kind: str
    frames: list[np.ndarray]


class VadGate:
    """Frames in, burst boundaries out (see the module docstring). Times are in frames of :data:`CHUNK`."""

    def __init__(self, classify: Callable[[np.ndarray], bool], open_frames: int = 2, close_silence_s: float = 0.3,
                 pre_roll_s: float = 0.2, min_speech_s: float = 0.0) -> None:
        self._classify = classify
        self.open_frames = max(1, open_frames)
        self.close_frames = max(1, round(close_silence_s * SAMPLE_RATE / CHUNK))
        # a burst with less than min_speech_s of speech closes only after three times the silence: the
        # closure of a stop consonant ("wai-t") does not cut a word in two
        self.min_speech_frames = round(min_speech_s * SAMPLE_RATE / CHUNK)
        self._ring: deque[np.ndarray] = deque(maxlen=max(self.open_frames, round(pre_roll_s * SAMPLE_RATE / CHUNK)))
        self.in_speech = False
        self._run = 0  # speech frames in a row (closed) / silent frames in a row (open)
        self.speech_frames = 0  # speech frames in the open burst

    def feed(self, frame: np.ndarray) -> Optional[VadEvent]:
        """One frame of :data:`CHUNK` float32 samples; an event when a burst opens or closes on it."""
        speech = self._classify(frame)
        if not self.in_speech:
            self._ring.append(frame)
            self._run = self._run + 1 if speech else 0
            if self._run >= self.open_frames:
                self.in_speech, self._run, self.speech_frames = True, 0, self.open_frames
                frames = list(self._ring)
                self._ring.clear()
                return VadEvent("open", frames)
            return None
        if speech:
            self._run = 0
            self.speech_frames += 1
        else:
            self._run += 1
            short = self.speech_frames < self.min_speech_frames
            if self._run >= (3 * self.close_frames if short else self.close_frames):
                self.in_speech, self._run = False, 0
                return VadEvent("close", [])
        return None

    def reset(self) -> None:
        """Forget the stream (and the classifier's own state, where it keeps one: Silero's)."""
        forget = getattr(self._classify, "reset", None)
        if forget is not None:
            forget()
        self._ring.clear()
        self.in_speech, self._run, self.speech_frames = False, 0, 0
