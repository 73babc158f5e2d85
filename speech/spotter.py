"""Stop spotting on the streaming audio, without waiting for the utterance's transcript.

:class:`BurstSpotter` (default): a voice-activity gate with a short closing silence finds each burst of
speech; a burst no longer than ``max_burst_s`` (a shouted "stop", "wait a second", "halt now") is decoded
at once by Whisper's encoder on that burst alone (CTranslate2 takes short inputs, so a 1 s burst costs a
tenth of a 30 s window) with a few greedy tokens, and a hit is a burst whose first word is a stop word.
Longer bursts are ordinary speech and cost nothing. What it cannot do: a stop word run into a sentence
without a pause ("move left stop") is left to the transcript path.

:class:`speech.sphinx.KeyphraseSpotter` (pocketsphinx keyphrase search) is the alternative for machines
without Whisper; ``robocorrect bench speech`` measures both.
"""
from __future__ import annotations

import re
import time
from typing import Any, Optional, Sequence

import numpy as np

from speech.base import CHUNK, SAMPLE_RATE, Chunk, RecognizerError, StopHit, StopSpotter
from speech.vad import VadGate, frame_classifier
from speech.whisper import DEFAULT_MODEL, model_path


class BurstSpotter(StopSpotter):
    """See the module docstring. ``close_silence_s``: silence that ends a burst (the spotter's share of
    the stop latency); ``max_burst_s``: longer bursts are not decoded; ``max_tokens``: tokens decoded."""

    def __init__(self, stop_words: Sequence[str] = ("stop", "wait", "halt"), model: str = DEFAULT_MODEL,
                 vad: str = "webrtc+energy", aggressiveness: int = 2, close_silence_s: float = 0.16,
                 max_burst_s: float = 1.6, max_tokens: int = 4, cpu_threads: int = 2, compute_type: str = "int8",
                 heard_as: dict[str, str] | None = None, bias: bool = True) -> None:
        self.stop_words = tuple(w.lower() for w in stop_words)
        self.model_name = model
        self.heard_as = dict(heard_as or {})  # what Whisper writes -> the stop word meant ('hold' -> 'halt')
        self.bias = bias
        self.gate = VadGate(frame_classifier(vad, aggressiveness), open_frames=2, close_silence_s=close_silence_s,
                            pre_roll_s=0.25)
        self.max_frames = round(max_burst_s * SAMPLE_RATE / CHUNK)
        self.max_tokens = max_tokens
        self.cpu_threads = cpu_threads
        self.compute_type = compute_type
        self._frames: list[np.ndarray] = []
        self._too_long = False
        self._model: Any = None
        self._fe: Any = None
        self._tok: Any = None
        self._prompt: list[int] = []
        self.last_text = ""  # what the last decoded burst said (for reports)

    def warm_up(self) -> None:
        """Load the model now (else on the first short burst)."""
        if self._model is not None:
            return
        try:
            import ctranslate2
            import tokenizers
            from faster_whisper.feature_extractor import FeatureExtractor
        except ImportError:
            raise RecognizerError("the burst stop spotter needs faster-whisper: pip install 'robocorrect[speech]'") from None
        path = model_path(self.model_name)
        try:
            self._model = ctranslate2.models.Whisper(path, device="cpu", compute_type=self.compute_type,
                                                     intra_threads=self.cpu_threads)
            self._tok = tokenizers.Tokenizer.from_file(f"{path}/tokenizer.json")
        except Exception as e:  # noqa: BLE001 - a corrupt or foreign model folder: say which
            raise RecognizerError(f"cannot load the Whisper model for the stop spotter from {path}: {e}") from None
        self._fe = FeatureExtractor(feature_size=self._model.n_mels)
        ids = [self._tok.token_to_id(t) for t in ("<|startofprev|>", "<|startoftranscript|>", "<|notimestamps|>")]
        if None in ids:
            raise RecognizerError(f"{path}: not an English Whisper tokenizer (no <|notimestamps|>)")
        # previous text "Stop! Wait! Halt!" makes the decoder expect the stop words
        prev = self._tok.encode(" " + " ".join(w.capitalize() + "!" for w in self.stop_words), add_special_tokens=False).ids
        self._prompt = [ids[0], *prev, ids[1], ids[2]] if self.bias else ids[1:]

    def decode(self, audio: np.ndarray) -> str:
        """The first few words Whisper hears in ``audio`` (float32 16 kHz, one short burst)."""
        import ctranslate2

        self.warm_up()
        pad = np.zeros(int(0.1 * SAMPLE_RATE), np.float32)
        feats = self._fe(np.concatenate([pad, audio, pad]), padding=0)
        n = max(100, feats.shape[-1])
        if feats.shape[-1] < n:
            feats = np.pad(feats, ((0, 0), (0, n - feats.shape[-1])))
        sv = ctranslate2.StorageView.from_array(np.ascontiguousarray(feats[None], dtype=np.float32))
        r = self._model.generate(sv, [self._prompt], beam_size=1, max_length=len(self._prompt) + self.max_tokens)
        return self._tok.decode(r[0].sequences_ids[0]).strip()

    def _is_stop(self, text: str) -> bool:
        words = re.findall(r"[a-z']+", text.lower())
        return bool(words) and self.heard_as.get(words[0], words[0]) in self.stop_words

    def feed(self, chunk: Chunk) -> Optional[StopHit]:
        ev = self.gate.feed(chunk.samples)
        if ev is not None and ev.kind == "open":
            self._frames, self._too_long = list(ev.frames), False
            return None
        if not self.gate.in_speech and ev is None:
            return None
        if not self._too_long:
            self._frames.append(chunk.samples)
            self._too_long = len(self._frames) > self.max_frames + self.gate.close_frames
        if ev is None or ev.kind != "close":
            return None
        frames, self._frames = self._frames, []
        if self._too_long:
            return None
        text = self.decode(np.concatenate(frames))
        self.last_text = text
        if self._is_stop(text):
            first = re.findall(r"[a-z']+", text.lower())[0]
            word = self.heard_as.get(first, first)
            return StopHit(word, chunk.t, time.perf_counter())
        return None

    def reset(self) -> None:
        self.gate.reset()
        self._frames, self._too_long = [], False
        self.last_text = ""
