"""Spoken test audio made on this machine: espeak-ng speaks, sox resamples and adds room noise.

Nothing is downloaded: ``apt-get install espeak-ng sox``. Every file is 16 kHz mono 16-bit WAV.
Room noise is sox's brown + pink noise (a ventilation-like rumble with some hiss), mixed at a signal-to-
noise ratio measured over the speech samples (not the silence around them).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

from speech.base import SAMPLE_RATE, SpeechError
from speech.sources import read_wav, write_wav

VOICES = ("en-us", "en-gb", "en-gb-x-rp", "en-gb-scotland", "en-029", "en-us-nyc")
SPEEDS = (130, 160, 190)  # words per minute


def have_tools() -> bool:
    """espeak-ng and sox are on the PATH."""
    return shutil.which("espeak-ng") is not None and shutil.which("sox") is not None


def _run(cmd: list[str]) -> None:
    try:
        subprocess.run(cmd, check=True, capture_output=True)
    except FileNotFoundError:
        raise SpeechError(f"{cmd[0]} is not installed: apt-get install -y espeak-ng sox") from None
    except subprocess.CalledProcessError as e:
        raise SpeechError(f"{' '.join(cmd[:3])} ... failed: {e.stderr.decode(errors='replace')[:200]}") from None


def speak(text: str, out: str | Path, voice: str = "en-us", speed: int = 160, pad_s: float = 0.5) -> Path:
    """Say ``text`` into ``out`` (16 kHz mono), with ``pad_s`` of silence before and after. Cached: an
    existing file is kept. Safe when several processes fill the same cache (files of this process's own
    name, renamed into place when whole). Repeatable: the same text gives the same file (sox ``-R``; without it
    sox dithers the 16-bit output with a fresh random seed, and a near tie in a recogniser then falls either way)."""
    out = Path(out)
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    raw, tmp = _own(out, ".raw.wav"), _own(out, ".part.wav")
    try:
        _run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text])
        _run(["sox", "-R", str(raw), "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", str(tmp), "pad", str(pad_s), str(pad_s)])
        os.replace(tmp, out)
    finally:
        raw.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)
    return out


def _own(out: Path, suffix: str) -> Path:
    """A working file beside ``out`` that no other process names (its pid in the name)."""
    return out.with_name(f"{out.stem}.{os.getpid()}{suffix}")


def speech_span(audio: np.ndarray, rel: float = 0.02) -> tuple[float, float]:
    """(start s, end s) of the speech in a clean recording: samples above ``rel`` of the peak."""
    idx = np.flatnonzero(np.abs(audio) > rel * (np.max(np.abs(audio)) + 1e-9))
    if len(idx) == 0:
        return 0.0, 0.0
    return idx[0] / SAMPLE_RATE, (idx[-1] + 1) / SAMPLE_RATE


def add_noise(clean: str | Path, out: str | Path, snr_db: float, seed: int = 0) -> Path:
    """``clean`` plus sox room noise at ``snr_db`` dB (speech power / noise power). Cached like :func:`speak`."""
    out = Path(out)
    if out.is_file():
        return out
    a = read_wav(clean)
    dur = len(a) / SAMPLE_RATE
    out.parent.mkdir(parents=True, exist_ok=True)
    noise = _own(out, ".noise.wav")
    s = int(hashlib.sha1(f"{seed}-{Path(clean).name}".encode()).hexdigest()[:6], 16)
    _run(["sox", "-R", "-n", "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", str(noise), "synth", f"{dur:.3f}",
          "brownnoise", "synth", f"{dur:.3f}", "pinknoise", "mix", "dither", "-s"])
    # sox -R is repeatable: vary the stretch of noise by rolling it with a seed
    n = read_wav(noise)
    noise.unlink(missing_ok=True)
    n = np.roll(np.resize(n, len(a)), s % max(1, len(a)))
    lo, hi = speech_span(a)
    sp = a[int(lo * SAMPLE_RATE):int(hi * SAMPLE_RATE)]
    ps = float(np.mean(sp[np.abs(sp) > 0.02 * np.max(np.abs(sp))] ** 2)) if len(sp) else 1e-6
    pn = float(np.mean(n ** 2)) + 1e-12
    mixed = a + n * np.sqrt(ps / pn / 10 ** (snr_db / 10.0))
    peak = float(np.max(np.abs(mixed)))
    tmp = write_wav(_own(out, ".part.wav"), mixed / peak * 0.9 if peak > 0.99 else mixed)
    os.replace(tmp, out)
    return out
