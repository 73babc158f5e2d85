"""Audio sources: WAV replays go through the microphone's own path (StreamSource.push -> chunks)."""
from __future__ import annotations

import numpy as np
import pytest

from speech.base import CHUNK, SAMPLE_RATE, AudioSourceError
from speech.config import SpeechConfig
from speech.sources import FileSource, MicrophoneSource, read_wav, resample, write_wav


def test_file_source_yields_16k_chunks_in_order(tmp_path) -> None:
    t = np.arange(int(0.5 * 22050)) / 22050
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    import wave

    p = tmp_path / "tone.wav"
    with wave.open(str(p), "wb") as w:  # 22.05 kHz stereo, as espeak or a sound card might write
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(22050)
        w.writeframes(np.repeat((tone * 32767).astype("<i2"), 2).tobytes())
    with FileSource(p) as src:
        chunks = list(src.chunks())
    assert all(len(c.samples) == CHUNK and c.samples.dtype == np.float32 for c in chunks)
    assert chunks[-1].t == pytest.approx(len(chunks) * CHUNK / SAMPLE_RATE)
    audio = np.concatenate([c.samples for c in chunks])
    assert abs(len(audio) - 0.5 * SAMPLE_RATE) <= CHUNK
    assert np.max(np.abs(audio)) == pytest.approx(0.5, abs=0.01)


def test_microphone_callback_and_file_share_one_path(tmp_path) -> None:
    """What PortAudio's callback hands over is read exactly as a replayed file is."""
    audio = (np.random.default_rng(0).standard_normal(SAMPLE_RATE // 2) * 0.1).astype(np.float32)
    p = write_wav(tmp_path / "a.wav", audio)
    mic = MicrophoneSource()
    for k in range(0, len(audio), 512):  # blocks as PortAudio delivers them (frames, channels)
        mic._callback(audio[k:k + 512, None], len(audio[k:k + 512]), None, None)
    mic.end()
    from_mic = np.concatenate([c.samples for c in mic.chunks()])
    with FileSource(p) as src:
        from_file = np.concatenate([c.samples for c in src.chunks()])
    assert np.allclose(from_mic, from_file, atol=1e-4)
    assert np.allclose(read_wav(p), audio, atol=1e-4)


def test_bad_files_raise_one_error(tmp_path) -> None:
    with pytest.raises(AudioSourceError, match="no audio file"):
        FileSource(tmp_path / "missing.wav").open()
    (tmp_path / "junk.wav").write_bytes(b"not a wav")
    with pytest.raises(AudioSourceError, match="cannot read WAV"):
        FileSource(tmp_path / "junk.wav").open()


def test_resample_keeps_duration() -> None:
    x = np.zeros(48000, np.float32)
    assert len(resample(x, 48000)) == SAMPLE_RATE


def test_config_rejects_bad_settings() -> None:
    from hardware.errors import UsageError

    with pytest.raises(UsageError, match="recognizer"):
        SpeechConfig(recognizer="siri")
    with pytest.raises(UsageError, match="WAV"):
        SpeechConfig(source="file")
    with pytest.raises(UsageError, match="min_confidence"):
        SpeechConfig(min_confidence=2)
