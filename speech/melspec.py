"""Log-mel features for the keyword-spotting stop spotter (:mod:`speech.kws`), in numpy only.

Frames of 25 ms (400 samples, Hann window, 512-point FFT) every 10 ms (160 samples) at 16 kHz, 40 mel
bands from 60 Hz to 7.8 kHz, natural log of the band power plus :data:`FLOOR`. :func:`log_mel` does a whole
recording; :class:`StreamingLogMel` gives the same frames chunk by chunk (a 20 ms chunk of
:data:`speech.base.CHUNK` samples yields two frames), so training on files and spotting on a microphone see
identical numbers (tests/speech/test_kws.py checks).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from speech.base import SAMPLE_RATE

N_FFT = 512
WIN = 400  # samples per frame (25 ms)
HOP = 160  # samples between frames (10 ms)
N_MELS = 40
FMIN, FMAX = 60.0, 7800.0  # Hz
FLOOR = 1e-6  # added to the band power before the log (digital silence -> log(FLOOR))


@lru_cache(maxsize=1)
def _bank() -> tuple[np.ndarray, np.ndarray]:
    """(Hann window, mel filter bank of shape (N_MELS, N_FFT // 2 + 1)), triangular filters on the HTK mel scale."""
    def mel(f: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10 ** (m / 2595.0) - 1.0)

    edges = hz(np.linspace(mel(np.array(FMIN)), mel(np.array(FMAX)), N_MELS + 2))
    freqs = np.arange(N_FFT // 2 + 1) * SAMPLE_RATE / N_FFT
    bank = np.zeros((N_MELS, len(freqs)))
    for i in range(N_MELS):
        lo, mid, hi = edges[i], edges[i + 1], edges[i + 2]
        bank[i] = np.clip(np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), 0.0, None)
    return np.hanning(WIN + 2)[1:-1].astype(np.float64), bank


def frames_of(frames: np.ndarray) -> np.ndarray:
    """Audio frames of shape (n, :data:`WIN`) -> log-mel features of shape (n, :data:`N_MELS`), float32."""
    window, bank = _bank()
    spec = np.abs(np.fft.rfft(frames.astype(np.float64) * window, n=N_FFT, axis=-1)) ** 2
    return np.log(spec @ bank.T + FLOOR).astype(np.float32)


def log_mel(audio: np.ndarray) -> np.ndarray:
    """Features of a whole recording (16 kHz float): frame ``i`` covers samples ``[i*HOP + HOP - WIN, i*HOP + HOP)``,
    i.e. frame ``i`` ends at sample ``(i + 1) * HOP`` (the audio is preceded by zeros), shape (len // HOP, N_MELS)."""
    a = np.concatenate([np.zeros(WIN - HOP, np.float32), np.asarray(audio, np.float32)])
    n = (len(a) - WIN) // HOP + 1
    if n <= 0:
        return np.zeros((0, N_MELS), np.float32)
    view = np.lib.stride_tricks.sliding_window_view(a, WIN)[::HOP][:n]
    return frames_of(view)


class StreamingLogMel:
    """Chunks in, the frames that ended inside them out (same numbers as :func:`log_mel` on the whole stream)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._tail = np.zeros(WIN - HOP, np.float32)
        self._pending = np.zeros(0, np.float32)

    def feed(self, samples: np.ndarray) -> np.ndarray:
        """Samples (any count) -> the new frames' features, shape (k, N_MELS)."""
        self._pending = np.concatenate([self._pending, np.asarray(samples, np.float32)])
        k = len(self._pending) // HOP
        if k == 0:
            return np.zeros((0, N_MELS), np.float32)
        a = np.concatenate([self._tail, self._pending[:k * HOP]])
        self._pending = self._pending[k * HOP:]
        self._tail = a[-(WIN - HOP):]
        view = np.lib.stride_tricks.sliding_window_view(a, WIN)[::HOP][:k]
        return frames_of(view)
