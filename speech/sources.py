"""Audio sources: the microphone (sounddevice / PortAudio) and WAV replays, through one path.

Both push raw blocks into :meth:`StreamSource.push` — the microphone from PortAudio's callback thread,
a file from a replay thread (at real time or as fast as the consumer takes it) — and both are read by
the same :meth:`StreamSource.chunks`, which resamples to 16 kHz mono float32 and cuts :data:`CHUNK`
sample chunks. Tests and benchmarks therefore exercise the microphone's code path with recordings.
"""
from __future__ import annotations

import queue
import threading
import time
import wave
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

import numpy as np

from speech.base import CHUNK, SAMPLE_RATE, AudioSourceError, Chunk, Source, to_float32

_END = object()


def resample(x: np.ndarray, rate: int) -> np.ndarray:
    """float32 mono at ``rate`` Hz -> :data:`SAMPLE_RATE` (linear interpolation; espeak's 22.05 kHz, 44.1/48 kHz mics)."""
    if rate == SAMPLE_RATE or len(x) == 0:
        return x.astype(np.float32)
    n = int(round(len(x) * SAMPLE_RATE / rate))
    return np.interp(np.arange(n) * (rate / SAMPLE_RATE), np.arange(len(x)), x).astype(np.float32)


def read_wav(path: str | Path) -> np.ndarray:
    """A PCM WAV file (8/16/32-bit, any rate, any channels) -> float32 mono 16 kHz. Raises AudioSourceError."""
    p = Path(path)
    try:
        with wave.open(str(p), "rb") as w:
            rate, ch, width, n = w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()
            raw = w.readframes(n)
    except (OSError, wave.Error, EOFError) as e:
        raise AudioSourceError(f"cannot read WAV file {p}: {e}") from None
    if width == 2:
        a = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    elif width == 4:
        a = np.frombuffer(raw, "<i4").astype(np.float32) / 2147483648.0
    elif width == 1:
        a = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    else:
        raise AudioSourceError(f"{p}: {8 * width}-bit samples are not supported (use 8, 16 or 32-bit PCM)")
    if ch > 1:
        a = a.reshape(-1, ch).mean(axis=1)
    return resample(a, rate)


def write_wav(path: str | Path, audio: np.ndarray) -> Path:
    """Save float32 16 kHz mono ``audio`` as 16-bit PCM WAV (parents created); returns the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(p), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    return p


class StreamSource(Source):
    """Blocks pushed from a producer thread, read as 16 kHz :class:`Chunk` s (see the module docstring).

    ``rate``: sample rate (Hz) of what the producer pushes."""

    def __init__(self, rate: int = SAMPLE_RATE) -> None:
        self.rate = rate
        self._q: "queue.Queue[Any]" = queue.Queue()
        self._closed = threading.Event()
        self._t = 0  # samples delivered

    def push(self, block: np.ndarray) -> None:
        """Producer side: one block of samples (int16 or float, mono or (n, channels)) at ``rate``."""
        if not self._closed.is_set():
            self._q.put(to_float32(block))

    def end(self) -> None:
        """Producer side: no more audio will come."""
        self._q.put(_END)

    def close(self) -> None:
        self._closed.set()
        self._q.put(_END)

    def chunks(self) -> Iterator[Chunk]:
        buf = np.zeros(0, np.float32)
        while True:
            try:
                item = self._q.get(timeout=0.1)
            except queue.Empty:
                if self._closed.is_set():
                    return
                continue
            if item is _END:
                if len(buf):  # the tail, padded with silence to a whole chunk
                    yield self._chunk(np.concatenate([buf, np.zeros(CHUNK - len(buf), np.float32)]))
                return
            buf = np.concatenate([buf, resample(item, self.rate)])
            while len(buf) >= CHUNK:
                piece, buf = buf[:CHUNK], buf[CHUNK:]
                yield self._chunk(piece)

    def _chunk(self, samples: np.ndarray) -> Chunk:
        self._t += len(samples)
        return Chunk(samples, self._t / SAMPLE_RATE, time.perf_counter())


class FileSource(StreamSource):
    """Replays WAV files (one after another, ``gap_s`` of silence between) through the microphone's path.

    ``realtime`` True paces the blocks at the speed of sound, as a microphone would deliver them;
    False pushes them as fast as they are taken (tests, benchmarks). ``block`` is the block size in
    samples, as PortAudio's ``blocksize``."""

    def __init__(self, paths: Sequence[str | Path] | str | Path, realtime: bool = False, gap_s: float = 0.0,
                 block: int = CHUNK) -> None:
        super().__init__(SAMPLE_RATE)
        self.paths = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
        self.realtime = realtime
        self.gap_s = gap_s
        self.block = block
        self._thread: Optional[threading.Thread] = None
        self._audio: list[np.ndarray] = []

    def open(self) -> None:
        for p in self.paths:
            if not p.is_file():
                raise AudioSourceError(f"no audio file at {p}")
        self._audio = [read_wav(p) for p in self.paths]
        self._thread = threading.Thread(target=self._replay, name="audio-replay", daemon=True)
        self._thread.start()

    def _replay(self) -> None:
        t0 = time.perf_counter()
        sent = 0
        gap = np.zeros(int(self.gap_s * SAMPLE_RATE), np.float32)
        for i, a in enumerate(self._audio):
            a = np.concatenate([gap, a]) if i and len(gap) else a
            for k in range(0, len(a), self.block):
                if self._closed.is_set():
                    return
                block = a[k:k + self.block]
                if self.realtime:
                    ahead = (sent + len(block)) / SAMPLE_RATE - (time.perf_counter() - t0)
                    if ahead > 0:
                        time.sleep(ahead)
                elif self._q.qsize() > 64:  # do not run far ahead of the consumer
                    time.sleep(0.001)
                self.push(block)
                sent += len(block)
        self.end()


class MicrophoneSource(StreamSource):
    """The default (or ``device``) input through sounddevice / PortAudio, at ``rate`` Hz, mono.

    PortAudio calls :meth:`_callback` from its own thread with each block; ``chunks()`` yields until
    :meth:`close`."""

    def __init__(self, device: str | int | None = None, rate: int = SAMPLE_RATE, block: int = CHUNK) -> None:
        super().__init__(rate)
        self.device = device
        self.block = block
        self._stream: Any = None

    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        self.push(indata.copy())

    def open(self) -> None:
        try:
            import sounddevice as sd
        except (ImportError, OSError) as e:  # OSError: the PortAudio library is missing
            raise AudioSourceError(f"the microphone needs sounddevice and PortAudio (pip install 'robocorrect[speech]'; "
                                   f"apt-get install libportaudio2): {e}") from None
        try:
            self._stream = sd.InputStream(samplerate=self.rate, channels=1, dtype="float32", blocksize=self.block,
                                          device=self.device, callback=self._callback)
            self._stream.start()
        except Exception as e:  # noqa: BLE001 - PortAudioError, ValueError for a bad device: say which
            raise AudioSourceError(f"cannot open the microphone {self.device if self.device is not None else '(default)'}: {e}") from None

    def close(self) -> None:
        if self._stream is not None:
            try:
                self._stream.stop()
                self._stream.close()
            finally:
                self._stream = None
        super().close()
