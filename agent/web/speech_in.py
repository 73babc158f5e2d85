"""Push-to-talk from the page: the browser records the microphone with WebAudio and sends 16 kHz mono 16-bit
PCM WAV (so nothing needs decoding here beyond the WAV header); the server's recogniser (the one
``robocorrect sim --voice`` uses, :mod:`speech`) transcribes it, biased toward the scene's object names.

A transcript below ``min_confidence`` is shown and asked again, never acted on, as in :mod:`agent.voice`.
"""
from __future__ import annotations

import io
import threading
import wave
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

MAX_SECONDS = 30.0
RATE = 16000


class AudioRejected(Exception):
    """The upload is not audio we take (the message says what is expected); nothing was transcribed."""


@dataclass
class Heard:
    """What one push-to-talk recording said: ``text``, ``confidence`` 0..1, ``accepted`` (acted on)."""

    text: str
    confidence: float
    accepted: bool
    message: str


def decode_wav(data: bytes) -> np.ndarray:
    """16 kHz mono 16-bit PCM WAV bytes -> float32 samples in [-1, 1]; :class:`AudioRejected` otherwise."""
    if len(data) < 44 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioRejected("audio must be a WAV file (16 kHz, mono, 16-bit PCM), as the page records it")
    try:
        with wave.open(io.BytesIO(data)) as w:
            if (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getcomptype()) != (1, 2, RATE, "NONE"):
                raise AudioRejected(f"audio must be 16 kHz mono 16-bit PCM; got {w.getframerate()} Hz, "
                                    f"{w.getnchannels()} channel(s), {8 * w.getsampwidth()}-bit")
            n = w.getnframes()
            if n > MAX_SECONDS * RATE:
                raise AudioRejected(f"a recording is at most {MAX_SECONDS:g} s")
            raw = w.readframes(n)
    except (wave.Error, EOFError) as e:
        raise AudioRejected(f"unreadable WAV: {e}") from None
    x = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    if x.size < RATE // 10:
        raise AudioRejected("the recording is shorter than 0.1 s: hold the button while you speak")
    return x


class PushToTalk:
    """Transcribes recordings with the recogniser :class:`speech.config.SpeechConfig` names (loaded on first
    use, once; one recording at a time)."""

    def __init__(self, min_confidence: float = 0.45) -> None:
        self.min_confidence = min_confidence
        self._recognizer: Any = None
        self._lock = threading.Lock()

    def available(self) -> Optional[str]:
        """None when speech can be used, else why not."""
        try:
            import faster_whisper  # noqa: F401
        except ImportError:
            return "speech is not installed here (pip install -e '.[speech]')"
        return None

    def transcribe(self, data: bytes, scene: Any) -> Heard:
        """Decode, transcribe and judge one recording (blocking: run it off the event loop)."""
        from speech.config import SpeechConfig
        from speech.factory import make_recognizer
        from speech.vocab import prompt_words

        audio = decode_wav(data)
        why = self.available()
        if why:
            raise AudioRejected(why)
        with self._lock:
            if self._recognizer is None:
                self._recognizer = make_recognizer(SpeechConfig())
                self._recognizer.warm_up()
            self._recognizer.set_vocabulary(prompt_words(scene))
            tr = self._recognizer.transcribe(audio)
        text = " ".join(tr.text.split())
        if not text:
            return Heard("", tr.confidence, False, "heard nothing; hold the button and speak")
        if tr.confidence < self.min_confidence:
            return Heard(text, tr.confidence, False,
                         f"heard \"{text}\" (confidence {tr.confidence:.2f}) — not sure I got that; please say it again")
        return Heard(text, tr.confidence, True, f"heard \"{text}\" (confidence {tr.confidence:.2f})")
