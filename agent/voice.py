"""Speech into the teaching session: a :mod:`speech` source becomes utterances on an :class:`agent.channel.Channel`.

One thread reads the audio. Every chunk goes first to the stop spotter — a spotted "stop" / "wait" /
"halt" calls ``on_stop`` at once, from the audio thread, without waiting for any transcript (the default
``on_stop`` puts "stop" on the channel, which the session polls every control tick, so the arm halts
within one tick of the detection) — and then to the segmenter. Each finished utterance is transcribed
and what was heard is shown with its confidence (``show``) before anything acts on it; a transcript below
``min_confidence`` is asked again and never put on the channel. Accepted ones go on the channel as
``Utterance(text, source="voice", meta={"confidence", "audio", "t_end"})``; with ``audio_dir`` the
utterance's WAV is saved there and ``record`` (e.g. the episode log) receives the transcript beside its path.

    voice = VoiceInput(SpeechConfig(), channel, on_stop=None, show=print)
    voice.set_scene(scene); voice.start()  ...  voice.close()
"""
from __future__ import annotations

import threading
import time
from functools import lru_cache
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from agent.channel import Channel
from speech.base import Recognizer, Segment, Segmenter, Source, SpeechError, StopHit, StopSpotter
from speech.config import SpeechConfig
from speech.vocab import is_stop_phrase, load_vocabulary, prompt_words


@dataclass
class Heard:
    """One utterance as the voice input handled it. Times: ``t_end`` audio s of its last speech;
    ``closed_wall`` / ``done_wall`` ``perf_counter()`` when the segment closed / when it was put or refused."""

    text: str
    confidence: float
    accepted: bool
    reason: str = ""  # why not accepted: 'low confidence', 'empty', 'stop already spotted'
    audio: Optional[str] = None
    t_end: float = 0.0
    closed_wall: float = 0.0
    done_wall: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)


class VoiceInput:
    """See the module docstring. Parts default to those ``cfg`` names (:mod:`speech.factory`); pass
    them to share a loaded model or to test with a given source."""

    def __init__(self, cfg: SpeechConfig, channel: Channel, on_stop: Optional[Callable[[StopHit], None]] = None,
                 show: Callable[[str], None] = print, record: Optional[Callable[[dict[str, Any]], None]] = None,
                 source: Optional[Source] = None, segmenter: Optional[Segmenter] = None,
                 recognizer: Optional[Recognizer] = None, spotter: Optional[StopSpotter] | str = "config") -> None:
        from speech import factory

        self.cfg = cfg
        self.channel = channel
        self.on_stop = on_stop or (lambda hit: channel.put("stop", source="voice", spotted=hit.word, t_audio=hit.t))
        self.show = show
        self.record = record
        self.source = source or factory.make_source(cfg)
        self.segmenter = segmenter or factory.make_segmenter(cfg)
        self.recognizer = recognizer or factory.make_recognizer(cfg)
        self.spotter = factory.make_spotter(cfg) if spotter == "config" else spotter
        self.stop_words = load_vocabulary().stop_words
        self.heard: list[Heard] = []
        self.stops: list[StopHit] = []
        self.error: Optional[BaseException] = None
        self._thread: Optional[threading.Thread] = None
        self._n = 0
        use_lexicon(self.recognizer)
        self.set_scene(None)

    # --- setup -----------------------------------------------------------------------------------
    def set_scene(self, scene: Any) -> None:
        """Bias recognition toward this scene's object names (a Scene, its contract dict or names)."""
        self.recognizer.set_vocabulary(prompt_words(scene) + list(self.cfg.extra_words))

    def warm_up(self) -> None:
        """Load the models now, so the first utterance is not slow."""
        self.recognizer.warm_up()
        warm = getattr(self.spotter, "warm_up", None)
        if warm is not None:
            warm()

    # --- running ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Open the source and listen in a background thread (errors end up in :attr:`error` and ``show``)."""
        self.source.open()
        self._thread = threading.Thread(target=self._loop, name="voice", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        try:
            self.run_open()
        except SpeechError as e:
            self.error = e
            self.show(f"voice input stopped: {e}")

    def run(self) -> list[Heard]:
        """Open the source and handle it to its end in this thread (file replays); returns what was heard."""
        self.source.open()
        return self.run_open()

    def run_open(self) -> list[Heard]:
        for chunk in self.source.chunks():
            if self.spotter is not None:
                hit = self.spotter.feed(chunk)
                if hit is not None:
                    self.stops.append(hit)
                    self.on_stop(hit)
                    self.show(f"heard a stop word ({hit.word!r}): stopping")
            seg = self.segmenter.feed(chunk)
            if seg is not None:
                self.handle(seg)
        last = self.segmenter.flush()
        if last is not None:
            self.handle(last)
        return self.heard

    def close(self) -> None:
        """Stop listening (the thread ends after its current chunk)."""
        self.source.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def toggle(self) -> bool:
        """Push-to-talk: start / end recording (True when now recording)."""
        toggle = getattr(self.segmenter, "toggle", None)
        if toggle is None:
            raise SpeechError("push-to-talk toggling needs speech mode 'push_to_talk'")
        return bool(toggle())

    def key(self, line: str) -> bool:
        """A line typed in the terminal: in push-to-talk mode an empty line (Enter alone) starts or ends
        recording, and True says the line was taken; any other line, or hands-free mode, is not taken.
        (A terminal sees no key release, so the key toggles rather than being held.)"""
        if self.cfg.mode != "push_to_talk" or line.strip():
            return False
        self.show("recording… press Enter to end" if self.toggle() else "(heard; transcribing)")
        return True

    # --- one utterance ---------------------------------------------------------------------------
    def handle(self, seg: Segment) -> Heard:
        """Transcribe ``seg``, show what was heard, and put it on the channel unless it is refused."""
        tr = self.recognizer.transcribe(seg.audio)
        text = " ".join(tr.text.split())
        path = self._save(seg)
        h = Heard(text, tr.confidence, False, audio=path, t_end=seg.end_s, closed_wall=seg.closed_wall,
                  meta={"asr_s": round(tr.latency_s, 3)})
        spotted = any(seg.start_s - 0.1 <= s.t <= seg.end_s + 1.0 for s in self.stops)
        if not text:
            h.reason = "empty"
        elif spotted and is_stop_phrase(text, self.stop_words):
            h.reason = "stop already spotted"
        elif tr.confidence < self.cfg.min_confidence:
            h.reason = "low confidence"
            self.show(f"heard: \"{text}\" (confidence {tr.confidence:.2f}) — not sure I got that; please say it again")
        else:
            h.accepted = True
            self.show(f"heard: \"{text}\" (confidence {tr.confidence:.2f})")
            self.channel.put(text, source="voice", confidence=round(tr.confidence, 3), audio=path, t_end=seg.end_s)
        h.done_wall = time.perf_counter()
        self.heard.append(h)
        if self.record is not None:
            self.record({"transcript": text, "confidence": round(tr.confidence, 3), "accepted": h.accepted,
                         "reason": h.reason, "audio": path})
        return h

    def _save(self, seg: Segment) -> Optional[str]:
        if not self.cfg.audio_dir:
            return None
        from speech.sources import write_wav

        self._n += 1
        name = f"utt-{time.strftime('%Y%m%d-%H%M%S')}-{self._n:04d}.wav"
        return str(write_wav(Path(self.cfg.audio_dir) / name, seg.audio))


def transcribe_file(path: str | Path, recognizer: Recognizer, scene: Any = None) -> tuple[str, float]:
    """One recording -> (transcript, confidence): the file goes through the microphone's path
    (:class:`speech.sources.FileSource`) whole, and the recogniser is biased toward ``scene``'s names."""
    import numpy as np

    from speech.sources import FileSource

    recognizer.set_vocabulary(prompt_words(scene))
    use_lexicon(recognizer)
    src = FileSource(path, realtime=False)
    with src:
        audio = np.concatenate([c.samples for c in src.chunks()])
    tr = recognizer.transcribe(audio)
    return " ".join(tr.text.split()), tr.confidence


class ChannelRelay(Channel):
    """Forwards :meth:`put` to whichever channel ``target()`` returns now (the running episode's), so one
    voice input outlives the episodes of a terminal session; with no episode running, says so."""

    def __init__(self, target: Callable[[], Optional[Channel]], show: Callable[[str], None] = print) -> None:
        super().__init__()
        self._target = target
        self._show = show

    def put(self, text: str, source: str = "user", **meta: Any) -> Any:
        ch = self._target()
        if ch is None:
            self._show(f"(no episode is running, so \"{text}\" has nothing to act on; type a task)")
            return None
        return ch.put(text, source, **meta)


def start_terminal_voice(spec: str, session: Any, current: Callable[[], Optional[Channel]], show: Callable[[str], None],
                         scene: Any = None, log: Any = None) -> VoiceInput:
    """Voice for ``robocorrect sim --voice``: ``spec`` 'mic' (hands-free microphone), 'ptt' (microphone,
    push-to-talk: Enter alone starts and ends an utterance, see :meth:`VoiceInput.key`), a WAV file to
    replay at real time, or 'ptt:FILE.wav' (the replay, push-to-talk). What was heard goes to the running
    episode's channel and, with an episode log, into the log as a 'speech' event (transcript, confidence,
    saved WAV path)."""
    from hardware.errors import RobocorrectError

    cfg = speech_config(spec)
    if log is not None and getattr(log, "root", None) is not None:
        cfg.audio_dir = str(Path(log.root) / "audio")

    def record(d: dict[str, Any]) -> None:
        if log is not None and session.episode_id and not session.finished:
            try:
                log.log(session.episode_id, "speech", d)
            except RobocorrectError:
                pass  # the episode ended between the check and the write

    voice = VoiceInput(cfg, ChannelRelay(current, show), show=show, record=record)
    voice.set_scene(scene)
    show("loading speech models…")
    voice.warm_up()
    voice.start()
    how = "press Enter, speak, press Enter" if cfg.mode == "push_to_talk" else "speak"
    show(f"listening: {how} for a correction; 'stop' / 'wait' / 'halt' halts at once")
    return voice


def speech_config(spec: str) -> SpeechConfig:
    """``--voice`` value -> settings: 'mic', 'ptt', a WAV path, or 'ptt:' + a WAV path (see :func:`start_terminal_voice`)."""
    mode = "hands_free"
    if spec == "ptt" or spec.startswith("ptt:"):
        mode, spec = "push_to_talk", spec[4:] or "mic"
    if spec == "mic":
        return SpeechConfig(mode=mode)
    return SpeechConfig(source="file", files=(spec,), realtime=True, mode=mode)


def use_lexicon(recognizer: Recognizer) -> None:
    """Give a recogniser that takes one (Whisper: ``set_lexicon``) the grounder's words, once."""
    set_lexicon = getattr(recognizer, "set_lexicon", None)
    if set_lexicon is not None and not getattr(recognizer, "lexicon", None):
        set_lexicon(sorted(grounder_words()))


@lru_cache(maxsize=1)
def grounder_words() -> frozenset[str]:
    """Every word of the grounder's English command phrase pools (``agent/grounder/data/phrases.json``, its own
    training phrases; never an evaluation file), number words and the speech vocabulary: what a correction is
    made of, for choosing among the recogniser's n-best (:mod:`speech.rescore`)."""
    from agent.grounder.spelling import pool_words

    words = pool_words(r"[a-z']+", drop_slots=True)
    v = load_vocabulary()
    words.update(v.correction_words + v.grammar_words + v.stop_words)
    words.update("zero one two three four five six seven eight nine ten twenty thirty forty fifty sixty seventy eighty "
                 "ninety hundred half quarter centimeter centimeters centimetre centimetres millimeters inches inch "
                 "degrees degree".split())
    return frozenset(words)
