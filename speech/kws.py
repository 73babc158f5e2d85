"""Keyword-spotting stop spotter: a small convolutional network on the last second of log-mel features,
evaluated on every 20 ms chunk, so a stop word is called about 0.15 s after it ends (no closing silence,
no transcript, no Whisper). The network is trained to call a stop word only once it has heard 0.12 s past
the word's end: part of the 0.3 s latency budget spent on telling "wait" from "way slower" and "halt"
from "also" by what follows them.

Every chunk adds two feature frames (:mod:`speech.melspec`); the network sees the last :data:`WINDOW_FRAMES`
frames (1.0 s), scaled by subtracting their mean (so loudness does not matter), and gives the
probabilities of four classes: no stop word, 'stop', 'wait', 'halt'. Two such networks listen (the tuning's
``nets``): the context network (``spotter_kws.npz``), trained to call a word 0.12 s after its end, and the
word-end network (``spotter_kws_end.npz``), trained to call it from 30 ms before its end; the stop-word
probability is the smaller of theirs (:class:`KwsPair`: both must hear it). A hit is that probability
(1 - p(none)) at or above ``threshold`` on ``consecutive`` chunks in a row; after a hit the spotter is deaf
for ``refractory_s`` (one spoken stop is one hit). The networks run in numpy (79 k weights each, about
a millisecond a chunk each); torch is needed only to train them.

Weights and operating point: ``speech/data/spotter_kws.npz``, ``spotter_kws_end.npz`` and ``spotter_kws.json``,
written by ``python3 -m agent.bench.spotter_train`` (its ``--label-from``, ``--out`` and ``--pair``) from espeak-ng
speech of its own (synthetic voices: see README, what transfers to people is not measured).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from speech.base import SAMPLE_RATE, Chunk, SpeechError, StopHit, StopSpotter
from speech.melspec import FLOOR, HOP, N_MELS, StreamingLogMel, log_mel

DATA = Path(__file__).parent / "data"
WEIGHTS = DATA / "spotter_kws.npz"  # the context network: calls a word once it has heard 0.12 s past its end
END_WEIGHTS = DATA / "spotter_kws_end.npz"  # the word-end network: calls it from 30 ms before its end
TUNED = DATA / "spotter_kws.json"
WINDOW_FRAMES = 100  # feature frames the network sees (1.0 s)
CLASSES = ("none", "stop", "wait", "halt")
# (name, kernel, stride) of the convolutions over time; each is followed by ReLU
LAYERS = (("conv1", 5, 1), ("conv2", 5, 2), ("conv3", 5, 2), ("conv4", 3, 1))


class KwsNet:
    """The network in numpy: ``weights`` maps ``conv1..conv4`` / ``fc1`` / ``fc2`` + ``.w`` / ``.b`` to arrays
    (conv weights (out, in, kernel) as torch's Conv1d; dense (out, in) as torch's Linear)."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.w = {k: np.asarray(v, np.float32) for k, v in weights.items()}

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Windows of features (n, WINDOW_FRAMES, N_MELS) -> class logits (n, len(CLASSES))."""
        h = np.asarray(x, np.float32)
        h = h - h.mean(axis=(1, 2), keepdims=True)
        h = np.transpose(h, (0, 2, 1))  # (n, mels, time)
        for name, k, stride in LAYERS:
            win = np.lib.stride_tricks.sliding_window_view(h, k, axis=2)[:, :, ::stride]  # (n, in, t', k)
            h = np.einsum("nitk,oik->not", win, self.w[f"{name}.w"], optimize=True) + self.w[f"{name}.b"][None, :, None]
            np.maximum(h, 0.0, out=h)
        h = h.max(axis=2)
        h = np.maximum(h @ self.w["fc1.w"].T + self.w["fc1.b"], 0.0)
        return h @ self.w["fc2.w"].T + self.w["fc2.b"]

    def stop_prob(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(probability that a stop word is in each window, (n,); the most likely stop word's class index, (n,))."""
        z = self.logits(x)
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        return 1.0 - p[:, 0], 1 + np.argmax(p[:, 1:], axis=1)


class KwsPair:
    """Two networks that must both hear a stop word: the stop probability is the smaller of theirs (each
    network's false stops are mostly not the other's), the stop word the first network's."""

    def __init__(self, nets: Sequence[KwsNet]) -> None:
        if not nets:
            raise SpeechError("the keyword spotter needs at least one network")
        self.nets = list(nets)

    def stop_prob(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`KwsNet.stop_prob`: the least of the networks' stop probabilities, the first network's word."""
        p, w = self.nets[0].stop_prob(x)
        for net in self.nets[1:]:
            p = np.minimum(p, net.stop_prob(x)[0])
        return p, w


@dataclass(frozen=True)
class KwsTuning:
    """Operating point: ``threshold`` stop-word probability (0..1); ``consecutive`` chunks in a row at or above
    it for a hit; ``refractory_s`` s deaf after a hit; ``nets``: weight files (names under ``speech/data``)
    whose networks must all hear the word (:class:`KwsPair`)."""

    threshold: float = 0.5
    consecutive: int = 2
    refractory_s: float = 1.0
    nets: tuple[str, ...] = (WEIGHTS.name,)


def load_tuning(path: str | Path | None = None) -> KwsTuning:
    p = Path(path) if path else TUNED
    if not p.is_file():
        return KwsTuning()
    try:
        raw = json.loads(p.read_text())
        t = KwsTuning(float(raw["threshold"]), int(raw["consecutive"]), float(raw["refractory_s"]),
                      tuple(str(n) for n in raw.get("nets", [WEIGHTS.name])))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise SpeechError(f"cannot read the keyword spotter tuning {p}: {e}") from None
    if not 0.0 < t.threshold < 1.0 or t.consecutive < 1 or t.refractory_s < 0:
        raise SpeechError(f"{p}: threshold must be in (0, 1), consecutive >= 1 and refractory_s >= 0, got {t}")
    if not t.nets or any(Path(n).name != n for n in t.nets):
        raise SpeechError(f"{p}: nets must name weight files under {DATA}, got {list(t.nets)}")
    return t


def load_net(path: str | Path | None = None) -> KwsNet:
    p = Path(path) if path else WEIGHTS
    try:
        with np.load(p) as z:
            return KwsNet({k: z[k] for k in z.files})
    except (OSError, ValueError) as e:
        raise SpeechError(f"cannot read the keyword spotter weights {p}: {e} "
                          "(python3 -m agent.bench.spotter_train writes them)") from None


def window_scores(net: KwsNet | KwsPair, feats: np.ndarray, ends: Sequence[int], batch: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Stop probabilities of the windows ending at frames ``ends`` (exclusive index) of ``feats`` (frames before
    the first are digital silence, as after :meth:`KwsSpotter.reset`)."""
    pad = np.full((WINDOW_FRAMES, N_MELS), np.log(FLOOR), np.float32)
    f = np.concatenate([pad, feats])
    view = np.lib.stride_tricks.sliding_window_view(f, (WINDOW_FRAMES, N_MELS))[:, 0]  # window i ends at frame i
    ends = np.asarray(ends, int)
    ps, ws = [], []
    for k in range(0, len(ends), batch):
        p, w = net.stop_prob(view[ends[k:k + batch]])
        ps.append(p)
        ws.append(w)
    if not ps:
        return np.zeros(0), np.zeros(0, int)
    return np.concatenate(ps), np.concatenate(ws)


def load_nets(tuning: KwsTuning) -> KwsNet | KwsPair:
    """The network(s) the tuning names: one :class:`KwsNet`, or a :class:`KwsPair` that all must hear the word."""
    nets = [load_net(DATA / n) for n in tuning.nets]
    return nets[0] if len(nets) == 1 else KwsPair(nets)


class KwsSpotter(StopSpotter):
    """See the module docstring. ``net``: a network (or :class:`KwsPair`) instead of the tuning's."""

    def __init__(self, stop_words: Sequence[str] = ("stop", "wait", "halt"), threshold: float | None = None,
                 consecutive: int | None = None, refractory_s: float | None = None,
                 net: KwsNet | KwsPair | None = None) -> None:
        t = self._tuning = load_tuning()
        self.threshold = t.threshold if threshold is None else threshold
        self.consecutive = t.consecutive if consecutive is None else consecutive
        self.refractory_s = t.refractory_s if refractory_s is None else refractory_s
        self.stop_words = tuple(w.lower() for w in stop_words)
        unknown = [w for w in self.stop_words if w not in CLASSES[1:]]
        if unknown:
            raise SpeechError(f"the keyword spotter knows only {', '.join(CLASSES[1:])}; not {', '.join(unknown)}")
        self._net = net
        self._mel = StreamingLogMel()
        self.reset()

    def warm_up(self) -> None:
        """Load the weights now (else on the first chunk)."""
        if self._net is None:
            self._net = load_nets(self._tuning)

    def reset(self) -> None:
        self._mel.reset()
        self._feats = np.full((WINDOW_FRAMES, N_MELS), np.log(FLOOR), np.float32)
        self._run = 0
        self._deaf_until = -1.0
        self._last_t = -1.0
        self.last_score = 0.0
        self.last_text = ""

    def feed(self, chunk: Chunk) -> Optional[StopHit]:
        self.warm_up()
        if chunk.t < self._last_t:  # audio time went back: a new source started, forget the old one
            self.reset()
        self._last_t = chunk.t
        new = self._mel.feed(chunk.samples)
        if len(new) == 0:
            return None
        self._feats = np.concatenate([self._feats[len(new):], new])
        p, w = self._net.stop_prob(self._feats[None])  # type: ignore[union-attr]
        self.last_score, word = float(p[0]), CLASSES[int(w[0])]
        self._run = self._run + 1 if self.last_score >= self.threshold and word in self.stop_words else 0
        if self._run >= self.consecutive and chunk.t >= self._deaf_until:
            self._deaf_until, self._run = chunk.t + self.refractory_s, 0
            self.last_text = word
            return StopHit(word, chunk.t, time.perf_counter())
        return None

    def scores(self, audio: np.ndarray, chunk: int = 320) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What :meth:`feed` computes on ``audio`` fed in chunks of ``chunk`` samples, at once: (audio time s of each
        chunk's end, stop probability there, class index of the stop word) - for training and tuning."""
        self.warm_up()
        feats = log_mel(audio)
        n = len(audio) // chunk
        t = (np.arange(n) + 1) * chunk / SAMPLE_RATE
        ends = ((np.arange(n) + 1) * chunk) // HOP  # frames completed by each chunk's end
        p, w = window_scores(self._net, feats, ends)  # type: ignore[arg-type]
        return t, p, w


def detect(t: np.ndarray, p: np.ndarray, threshold: float, consecutive: int, refractory_s: float) -> list[float]:
    """The hit times of :meth:`KwsSpotter.feed`'s rule on a score sequence (any stop word counts)."""
    hits: list[float] = []
    run, deaf = 0, -1.0
    for ti, pi in zip(t, p):
        run = run + 1 if pi >= threshold else 0
        if run >= consecutive and ti >= deaf:
            hits.append(float(ti))
            deaf, run = ti + refractory_s, 0
    return hits
