"""pocketsphinx back-ends for small machines: a grammar recogniser and a keyphrase stop spotter.

:class:`GrammarRecognizer` decodes with a JSGF word loop over the speech vocabulary plus the scene's
object words (CMU en-us acoustic model shipped in the ``pocketsphinx`` wheel; words missing from its
dictionary are left out). :class:`KeyphraseSpotter` runs pocketsphinx's keyphrase search on the stream.
Both are much weaker than Whisper on synthetic voices: ``robocorrect bench speech`` reports the figures.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from speech.base import Chunk, Recognizer, RecognizerError, StopHit, StopSpotter, Transcript, to_int16
from speech.vocab import load_vocabulary, split_words


def _decoder(**kw: Any) -> Any:
    try:
        from pocketsphinx import Decoder
    except ImportError:
        raise RecognizerError("the pocketsphinx back-ends need pocketsphinx: pip install 'robocorrect[speech]'") from None
    return Decoder(loglevel="FATAL", **kw)


class GrammarRecognizer(Recognizer):
    """A word-loop JSGF grammar over the vocabulary (see the module docstring); ``beam``: pruning beam."""

    def __init__(self, beam: float = 1e-30) -> None:
        self.beam = beam
        self._d: Any = None
        self._words: list[str] = []

    def set_vocabulary(self, words: Sequence[str]) -> None:
        v = load_vocabulary()
        self._words = split_words(list(words) + list(v.stop_words) + list(v.correction_words) + list(v.grammar_words))
        self._d = None

    def warm_up(self) -> None:
        if self._d is not None:
            return
        if not self._words:
            self.set_vocabulary([])
        d = _decoder(beam=self.beam, wbeam=self.beam, pbeam=self.beam)
        known = [w for w in self._words if d.lookup_word(w) is not None]
        if not known:
            raise RecognizerError("none of the vocabulary words is in the pocketsphinx dictionary")
        d.add_jsgf_string("corr", "#JSGF V1.0;\ngrammar corr;\npublic <s> = <w>+;\n<w> = " + " | ".join(known) + ";\n")
        d.activate_search("corr")
        self._d = d

    def transcribe(self, audio: np.ndarray) -> Transcript:
        self.warm_up()
        t0 = time.perf_counter()
        d = self._d
        d.start_utt()
        d.process_raw(to_int16(audio).tobytes(), False, True)
        d.end_utt()
        h = d.hyp()
        if h is None or not h.hypstr.strip():
            return Transcript("", 0.0, latency_s=time.perf_counter() - t0)
        conf = max(0.0, min(1.0, d.logmath.exp(h.prob))) if hasattr(d, "logmath") else 0.5
        return Transcript(h.hypstr.strip(), conf, h.hypstr.split(), latency_s=time.perf_counter() - t0)


class KeyphraseSpotter(StopSpotter):
    """pocketsphinx keyphrase search for each stop word; ``threshold``: detection threshold (smaller
    catches more and stops falsely more often)."""

    def __init__(self, stop_words: Sequence[str] = ("stop", "wait", "halt"), threshold: float = 1e-10) -> None:
        self.stop_words = tuple(stop_words)
        self.threshold = threshold
        self._d: Any = None
        self._t = 0.0

    def warm_up(self) -> None:
        if self._d is not None:
            return
        with tempfile.NamedTemporaryFile("w", suffix=".kws", delete=False) as f:
            f.write("".join(f"{w} /{self.threshold:g}/\n" for w in self.stop_words))
            kws = f.name
        try:
            self._d = _decoder(kws=kws)
        finally:
            Path(kws).unlink(missing_ok=True)
        self._d.start_utt()

    def feed(self, chunk: Chunk) -> Optional[StopHit]:
        self.warm_up()
        d = self._d
        d.process_raw(to_int16(chunk.samples).tobytes(), False, False)
        h = d.hyp()
        if h is None:
            return None
        d.end_utt()
        d.start_utt()
        return StopHit(h.hypstr.split()[0], chunk.t, time.perf_counter())

    def reset(self) -> None:
        if self._d is not None:
            self._d.end_utt()
            self._d.start_utt()
