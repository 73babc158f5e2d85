"""Push-to-talk: Enter alone starts and ends an utterance; the recording goes through the microphone's path
(a real-time WAV replay stands in for the microphone) and real Whisper."""
from __future__ import annotations

import threading
import time

from agent.channel import Channel
from agent.voice import VoiceInput, speech_config


def test_voice_spec_picks_mode_and_source() -> None:
    assert speech_config("mic").mode == "hands_free" and speech_config("mic").source == "mic"
    ptt = speech_config("ptt")
    assert ptt.mode == "push_to_talk" and ptt.source == "mic"
    f = speech_config("ptt:/tmp/a.wav")
    assert f.mode == "push_to_talk" and f.source == "file" and f.files == ("/tmp/a.wav",) and f.realtime


def test_enter_toggles_recording_and_the_utterance_reaches_the_channel(say, whisper) -> None:
    wav = say("move it a little higher", pad_s=0.6)
    cfg = speech_config(f"ptt:{wav}")
    ch, shown = Channel(), []
    v = VoiceInput(cfg, ch, show=shown.append, recognizer=whisper, spotter=None)
    assert v.key("slower") is False  # a typed correction is not a key press
    v.source.open()
    th = threading.Thread(target=v.run_open, daemon=True)
    th.start()
    time.sleep(0.2)
    assert v.key("") is True and "recording" in shown[-1]  # Enter: start, before the speech begins
    time.sleep(2.6)  # the phrase is said meanwhile, at real-time pace
    assert v.key("") is True  # Enter: end
    th.join(timeout=15)
    u = ch.poll()
    assert u is not None and u.source == "voice" and "higher" in u.text.lower()
    assert any(m.startswith("heard:") for m in shown)


def test_nothing_is_recorded_without_a_key_press(say, whisper) -> None:
    cfg = speech_config(f"ptt:{say('grip it harder')}")
    cfg.realtime = False
    ch = Channel()
    v = VoiceInput(cfg, ch, show=lambda m: None, recognizer=whisper, spotter=None)
    assert v.run() == [] and ch.poll() is None


def test_hands_free_takes_no_keys(say, whisper) -> None:
    v = VoiceInput(speech_config(str(say("faster"))), Channel(), show=lambda m: None, recognizer=whisper, spotter=None)
    assert v.key("") is False
