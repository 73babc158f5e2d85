"""Speech interfaces: audio sources, utterance segmenters, recognisers and stop spotters.

All audio is 16 kHz mono float32 in [-1, 1] (:data:`SAMPLE_RATE`), delivered in chunks of
:data:`CHUNK` samples (20 ms). Times are seconds of audio since the source started (``t`` of a chunk is
the time of its last sample), so replays from files and live microphones give the same clock.

    Source ──chunks──▶ StopSpotter.feed()  ──StopHit──▶ halt at once (no transcript waited for)
           └─────────▶ Segmenter.feed()    ──Segment──▶ Recognizer.transcribe() ──Transcript──▶ channel

Implementations sit beside this module and are chosen by :class:`speech.config.SpeechConfig`
(``speech.factory``); heavy libraries (sounddevice, faster_whisper, pocketsphinx, webrtcvad) are
imported inside them only.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Iterator, Optional, Sequence

import numpy as np

from hardware.errors import RobocorrectError

SAMPLE_RATE = 16000  # Hz
CHUNK = 320  # samples per chunk (20 ms)


class SpeechError(RobocorrectError):
    """Audio or recognition failed (no device, unreadable file, model missing); the message says what to do."""


class AudioSourceError(SpeechError):
    """An audio source cannot be opened or read (no microphone, PortAudio missing, bad WAV file)."""


class RecognizerError(SpeechError):
    """A recogniser cannot be built (model not found, package not installed) or failed on audio."""


@dataclass
class Chunk:
    """A piece of audio: ``samples`` float32 mono at :data:`SAMPLE_RATE`; ``t`` the audio time (s) of its
    last sample since the source started; ``wall`` the ``time.perf_counter()`` when it was delivered."""

    samples: np.ndarray
    t: float
    wall: float


@dataclass
class Segment:
    """One utterance cut from the stream: ``audio`` float32 16 kHz; ``start_s`` / ``end_s`` audio times
    (s) of its first and last speech; ``closed_wall`` the ``perf_counter()`` when the segmenter closed it."""

    audio: np.ndarray
    start_s: float
    end_s: float
    closed_wall: float = 0.0


@dataclass
class Transcript:
    """What a recogniser heard: ``text`` (may be empty), ``confidence`` in [0, 1] (the recogniser's own
    scale; compare with ``SpeechConfig.min_confidence``) and ``words`` when the recogniser gives them."""

    text: str
    confidence: float
    words: list[str] = field(default_factory=list)
    latency_s: float = 0.0  # wall seconds the recogniser took


@dataclass
class StopHit:
    """A spotted stop word: ``word`` as heard, ``t`` audio time (s) of the chunk that completed the
    detection, ``wall`` the ``perf_counter()`` at detection."""

    word: str
    t: float
    wall: float


class Source(ABC):
    """A stream of 16 kHz mono float32 chunks (:class:`Chunk`).

    Lifecycle: the constructor does no I/O; :meth:`open` starts capture (or replay), :meth:`chunks`
    yields until the source ends (a file ends; a microphone ends on :meth:`close`), :meth:`close` is
    harmless twice. Use as a context manager."""

    @abstractmethod
    def open(self) -> None:
        """Start delivering audio; raises :class:`AudioSourceError` when the device or file is unusable."""

    @abstractmethod
    def chunks(self) -> Iterator[Chunk]:
        """Yield chunks in order until the source ends or is closed."""

    @abstractmethod
    def close(self) -> None:
        """Stop capture; a :meth:`chunks` loop then ends. A second call does nothing."""

    def __enter__(self) -> "Source":
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Segmenter(ABC):
    """Cuts the chunk stream into utterances (push-to-talk or voice-activity detection)."""

    @abstractmethod
    def feed(self, chunk: Chunk) -> Optional[Segment]:
        """Take one chunk; return a finished :class:`Segment` when this chunk closed one, else None."""

    def flush(self) -> Optional[Segment]:
        """The source ended: return the utterance still open, if any (default: none)."""
        return None

    def reset(self) -> None:
        """Forget any open utterance (default: nothing to forget)."""


class Recognizer(ABC):
    """Audio of one utterance -> :class:`Transcript`."""

    @abstractmethod
    def transcribe(self, audio: np.ndarray) -> Transcript:
        """Transcribe float32 16 kHz mono ``audio``; raises :class:`RecognizerError` on failure."""

    def set_vocabulary(self, words: Sequence[str]) -> None:
        """Words likely to be said now (object names of the scene, correction words); recognisers use
        them as a prompt, hotwords or grammar. Default: ignored."""

    def warm_up(self) -> None:
        """Load models now rather than on the first utterance (default: nothing to load)."""


class StopSpotter(ABC):
    """Spots stop words ("stop", "wait", "halt") on the streaming audio without waiting for a transcript."""

    @abstractmethod
    def feed(self, chunk: Chunk) -> Optional[StopHit]:
        """Take one chunk; return a :class:`StopHit` as soon as a stop word is detected, else None."""

    def reset(self) -> None:
        """Forget the audio seen so far (default: nothing kept)."""


def to_float32(samples: np.ndarray) -> np.ndarray:
    """int16 or float audio -> float32 in [-1, 1] (mono: channels are averaged)."""
    a = np.asarray(samples)
    if a.ndim == 2:
        a = a.mean(axis=1)
    if a.dtype == np.int16:
        return (a.astype(np.float32) / 32768.0).astype(np.float32)
    return np.clip(a.astype(np.float32), -1.0, 1.0)


def to_int16(samples: np.ndarray) -> np.ndarray:
    """float32 audio in [-1, 1] -> int16 PCM (what webrtcvad and pocketsphinx take)."""
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)
