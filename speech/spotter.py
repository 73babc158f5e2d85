"""Stop spotting on the streaming audio, without waiting for the utterance's transcript.

:class:`BurstSpotter` (``spotter="burst"``; the default is :class:`speech.kws.KwsSpotter`, which does not wait for
the burst to end): a voice-activity gate (Silero VAD by default) with a short closing
silence finds each burst of speech; a burst no longer than ``max_burst_s`` (a shouted "stop", "wait a
second", "halt now") is scored at once by Whisper on that burst alone (CTranslate2 takes short inputs, so a
1 s burst costs a fraction of a 30 s window). A burst longer than ``max_burst_s`` is ordinary speech and
is not scored (with ``score_long`` its first ``max_burst_s`` is scored at that moment; on the training
speech that added false stops, 243 -> 261 an hour, and caught no further stop). The score is the probability Whisper's decoder gives to a
stop word where its greedy path starts one, among the burst's first words (four greedy decoder steps, after a prompt
"Stop! Wait! Halt!" that makes it expect them), and a hit is a score at or above ``threshold``. The threshold and the closing
silence come from ``speech/data/spotter.json``, tuned by ``python3 -m agent.bench.spotter_tune`` on
training speech of its own (never the test corpus of ``robocorrect bench speech``). What it cannot do: a stop word run into a sentence without a pause
("move left stop") is left to the transcript path.

:class:`speech.sphinx.KeyphraseSpotter` (pocketsphinx keyphrase search) is the alternative for machines
without Whisper; ``robocorrect bench speech`` measures both.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from speech.base import CHUNK, SAMPLE_RATE, Chunk, RecognizerError, SpeechError, StopHit, StopSpotter
from speech.vad import VadGate, frame_classifier
from speech.whisper import DEFAULT_MODEL, model_path

TUNED = Path(__file__).parent / "data" / "spotter.json"
# Whisper's previous-text prompt for the spotter, filled with the first three stop words: 'stops' makes it
# expect them; 'mixed' sets them among other short commands, so a short non-stop burst is not pulled to one.
PROMPTS = {"stops": "{}! {}! {}!", "mixed": "Shift it over there. {}! Make it tighter. {}! Put it down there. {}!", "none": ""}


@dataclass(frozen=True)
class SpotterTuning:
    """The burst spotter's operating point: ``model`` the Whisper model it scores with; ``threshold``
    stop-word probability (0..1) for a hit; ``close_silence_s`` s of non-speech that ends a burst; ``vad``
    the gate's frame classifier."""

    model: str = DEFAULT_MODEL  # 'first_word_only': only the burst's first word may be the stop word
    threshold: float = 0.5
    close_silence_s: float = 0.12
    vad: str = "silero"
    prompt: str = "stops"
    first_word_only: bool = False
    heard_as: tuple[tuple[str, str], ...] = ()


def load_tuning(path: str | Path | None = None) -> SpotterTuning:
    """The tuned operating point (``speech/data/spotter.json``; defaults when the file is absent)."""
    p = Path(path) if path else TUNED
    if not p.is_file():
        return SpotterTuning()
    try:
        raw = json.loads(p.read_text())
        t = SpotterTuning(str(raw["model"]), float(raw["threshold"]), float(raw["close_silence_s"]), str(raw["vad"]),
                          str(raw.get("prompt", "stops")), bool(raw.get("first_word_only", False)),
                          tuple(sorted(dict(raw.get("heard_as", {})).items())))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise SpeechError(f"cannot read the stop spotter tuning {p}: {e}") from None
    if not 0.0 < t.threshold < 1.0 or t.close_silence_s <= 0:
        raise SpeechError(f"{p}: threshold must be in (0, 1) and close_silence_s positive, got {t}")
    return t


class BurstSpotter(StopSpotter):
    """See the module docstring. ``threshold``: stop-word probability for a hit; ``close_silence_s``:
    silence that ends a burst (the spotter's share of the stop latency); ``max_burst_s``: a longer burst
    is not scored (``score_long``: its start is); ``min_speech_s``: a burst with less speech waits three closing silences
    before it is scored (a stop consonant's closure does not cut "wait" in two); ``max_tokens``: tokens decoded (a stop word among the first few words counts:
    "okay stop", "no wait"); ``heard_as``: what Whisper writes -> the stop word meant ('hold' -> 'halt')."""

    def __init__(self, stop_words: Sequence[str] = ("stop", "wait", "halt"), model: str = DEFAULT_MODEL,
                 vad: str = "silero", aggressiveness: int = 2, close_silence_s: float = 0.12,
                 threshold: float = 0.5, max_burst_s: float = 1.6, score_long: bool = False, max_tokens: int = 4, cpu_threads: int = 2, compute_type: str = "int8",
                 heard_as: dict[str, str] | None = None, prompt: str = "stops", first_word_only: bool = False,
                 min_speech_s: float = 0.2) -> None:
        self.stop_words = tuple(w.lower() for w in stop_words)
        self.model_name = model
        self.heard_as = dict(heard_as or {})
        if prompt not in PROMPTS:
            raise RecognizerError(f"stop spotter prompt must be one of {', '.join(PROMPTS)}, got {prompt!r}")
        self.prompt = prompt
        self.threshold = threshold
        self.gate = VadGate(frame_classifier(vad, aggressiveness), open_frames=2, close_silence_s=close_silence_s,
                            pre_roll_s=0.25, min_speech_s=min_speech_s)
        self.max_frames = round(max_burst_s * SAMPLE_RATE / CHUNK)
        self.score_long = score_long
        self.first_word_only = first_word_only
        self.max_tokens = max_tokens
        self.min_input_s = 1.5  # s; a shorter burst is padded with silence to this
        # Whisper may not end the text before its first word: otherwise a clean 0.4 s "wait", padded with
        # silence, decodes to nothing (training speech: recall 0.917 -> see speech/data/spotter.json)
        self.suppress_blank = True
        self.cpu_threads = cpu_threads
        self.compute_type = compute_type
        self._frames: list[np.ndarray] = []
        self._too_long = False
        self._model: Any = None
        self._fe: Any = None
        self._prompt: list[int] = []
        self._first: dict[int, str] = {}  # first-step token -> stop word it starts as a whole word
        self._prefix: dict[int, tuple[int, str]] = {}  # first-step token -> (second token, stop word)
        self.last_score = 0.0  # the last decoded burst's stop-word probability (for reports)
        self.last_text = ""

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
            model = ctranslate2.models.Whisper(path, device="cpu", compute_type=self.compute_type,
                                               intra_threads=self.cpu_threads)
            tok = tokenizers.Tokenizer.from_file(f"{path}/tokenizer.json")
        except Exception as e:  # noqa: BLE001 - a corrupt or foreign model folder: say which
            raise RecognizerError(f"cannot load the Whisper model for the stop spotter from {path}: {e}") from None
        special = ["<|startofprev|>", "<|startoftranscript|>"]
        if tok.token_to_id("<|en|>") is not None:
            special += ["<|en|>", "<|transcribe|>"]
        ids = [tok.token_to_id(t) for t in special + ["<|notimestamps|>"]]
        if None in ids:
            raise RecognizerError(f"{path}: not a Whisper tokenizer (no <|notimestamps|>)")
        # previous text that makes the decoder expect the stop words (and, 'mixed', other short commands too)
        text = PROMPTS[self.prompt].format(*[w.capitalize() for w in (list(self.stop_words) * 3)[:3]])
        prev = tok.encode(" " + text, add_special_tokens=False).ids if text else []
        self._prompt = [ids[0], *prev, *ids[1:]] if prev else ids[1:]
        words = {w: w for w in self.stop_words} | {k: v for k, v in self.heard_as.items() if v in self.stop_words}
        for heard, meant in words.items():
            for form in (heard, heard.capitalize(), " " + heard, " " + heard.capitalize()):
                toks = tok.encode(form, add_special_tokens=False).ids
                if len(toks) == 1:
                    self._first.setdefault(toks[0], meant)
                elif len(toks) == 2:
                    self._prefix.setdefault(toks[0], (toks[1], meant))
        self._tok, self._fe, self._model = tok, FeatureExtractor(feature_size=model.n_mels), model

    def score(self, audio: np.ndarray) -> tuple[float, str]:
        """(probability that a word of ``audio`` is a stop word, that word or ''): float32 16 kHz, one short
        burst. Whisper decodes up to :attr:`max_tokens` greedy tokens; at each step where the greedy path
        starts a stop word, the decoder's probabilities of the stop words' tokens there are summed (a word
        of two tokens, 'H' + 'alt', counts when the greedy path takes both), and the score is the largest
        such sum (0 when the greedy words hold no stop word)."""
        import ctranslate2

        self.warm_up()
        pad = np.zeros(int(0.1 * SAMPLE_RATE), np.float32)
        # silence after the burst up to min_input_s (padding the features with zeros instead is not silence
        # to Whisper: a 0.4 s "wait" then decodes to nothing)
        tail = np.zeros(max(len(pad), int(self.min_input_s * SAMPLE_RATE) - len(audio) - len(pad)), np.float32)
        feats = self._fe(np.concatenate([pad, audio, tail]), padding=0)
        sv = ctranslate2.StorageView.from_array(np.ascontiguousarray(feats[None], dtype=np.float32))
        r = self._model.generate(sv, [self._prompt], beam_size=1, max_length=len(self._prompt) + self.max_tokens,
                                 return_logits_vocab=True, suppress_blank=self.suppress_blank)[0]
        seq = r.sequences_ids[0]
        probs = [_softmax(np.asarray(x, np.float64).reshape(-1)) for x in r.logits[0]]
        best, word = 0.0, ""
        for i, p in enumerate(probs):
            if i > 0 and self.first_word_only:
                break
            if i > 0 and (i - 1 >= len(seq) or not self._tok.id_to_token(seq[i - 1]) or i >= len(seq)
                          or not self._tok.id_to_token(seq[i]).startswith("\u0120")):
                continue  # score only where a new word starts (the token after a space)
            if i >= len(seq) or (seq[i] not in self._first and seq[i] not in self._prefix):
                continue  # the greedy word here is no stop word: a stop word merely likely is not enough
            per_word: dict[str, float] = {}
            for t, w in self._first.items():
                per_word[w] = per_word.get(w, 0.0) + float(p[t])
            if i + 1 < len(probs) and i < len(seq) and seq[i] in self._prefix:
                second, w = self._prefix[seq[i]]
                per_word[w] = per_word.get(w, 0.0) + float(p[seq[i]] * probs[i + 1][second])
            total = sum(per_word.values())
            if total > best:
                best, word = total, max(per_word, key=lambda k: per_word[k])
        self.last_text = self._tok.decode(seq).strip()
        return min(1.0, best), word

    def feed(self, chunk: Chunk) -> Optional[StopHit]:
        ev = self.gate.feed(chunk.samples)
        if ev is not None and ev.kind == "open":
            self._frames, self._too_long = list(ev.frames), False
            return None
        if not self.gate.in_speech and ev is None:
            return None
        if self._too_long:  # a long burst, its start scored or not: wait for it to end
            if ev is not None and ev.kind == "close":
                self._too_long = False
            return None
        self._frames.append(chunk.samples)
        closed = ev is not None and ev.kind == "close"
        if not closed and len(self._frames) < self.max_frames:
            return None
        self._too_long = not closed
        frames, self._frames = self._frames, []
        if not closed and not self.score_long:
            return None  # ordinary speech: not scored
        # the burst ended, or (score_long) has gone on for max_burst_s: score it now ("wait wait wait")
        p, word = self.score(np.concatenate(frames))
        self.last_score = p
        if word and p >= self.threshold:
            return StopHit(word, chunk.t, time.perf_counter())
        return None

    def reset(self) -> None:
        self.gate.reset()
        self._frames, self._too_long = [], False
        self.last_text, self.last_score = "", 0.0


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - np.max(x))
    return e / e.sum()
