"""Build the speech parts named by a :class:`speech.config.SpeechConfig`; each implementation is imported
only when asked for, so choosing pocketsphinx never loads faster-whisper and the reverse."""
from __future__ import annotations

from speech.base import Recognizer, Segmenter, Source, StopSpotter
from speech.config import SpeechConfig
from speech.vocab import load_vocabulary


def make_source(cfg: SpeechConfig) -> Source:
    """The microphone or a WAV replay (both through :class:`speech.sources.StreamSource`)."""
    from speech.sources import FileSource, MicrophoneSource

    if cfg.source == "file":
        return FileSource(cfg.files, realtime=cfg.realtime, gap_s=0.5)
    device = int(cfg.device) if cfg.device is not None and str(cfg.device).isdigit() else cfg.device
    return MicrophoneSource(device)


def make_segmenter(cfg: SpeechConfig) -> Segmenter:
    from speech.segment import PushToTalkSegmenter, VadSegmenter

    if cfg.mode == "push_to_talk":
        return PushToTalkSegmenter(max_utterance_s=cfg.max_utterance_s)
    return VadSegmenter(cfg.vad, cfg.vad_aggressiveness, end_silence_s=cfg.end_silence_s,
                        max_utterance_s=cfg.max_utterance_s)


def make_recognizer(cfg: SpeechConfig) -> Recognizer:
    if cfg.recognizer == "sphinx":
        from speech.sphinx import GrammarRecognizer

        return GrammarRecognizer()
    from speech.whisper import WhisperRecognizer

    return WhisperRecognizer(cfg.whisper_model, cpu_threads=cfg.whisper_threads, beam_size=cfg.whisper_beam,
                             window_s=cfg.whisper_window_s, fixes=cfg.whisper_fixes,
                             lexicon_weight=cfg.whisper_lexicon_weight, constrain=cfg.whisper_constrain,
                             constrain_gap=cfg.whisper_constrain_gap, avoid_echo=cfg.whisper_avoid_echo,
                             lm_weight=cfg.whisper_lm_weight, adapter=cfg.whisper_adapter)


def make_spotter(cfg: SpeechConfig) -> StopSpotter | None:
    """The stop spotter, or None for ``spotter='none'`` (stops then come through the transcript only)."""
    v = load_vocabulary()
    if cfg.spotter == "none":
        return None
    if cfg.spotter == "keyphrase":
        from speech.sphinx import KeyphraseSpotter

        return KeyphraseSpotter(v.stop_words, cfg.keyphrase_threshold)
    if cfg.spotter == "kws":
        from speech.kws import KwsSpotter

        return KwsSpotter(v.stop_words, threshold=cfg.spotter_threshold)
    from speech.spotter import BurstSpotter, load_tuning

    t = load_tuning()
    return BurstSpotter(v.stop_words, cfg.spotter_model or t.model, vad=t.vad, aggressiveness=cfg.vad_aggressiveness,
                        close_silence_s=cfg.stop_close_silence_s or t.close_silence_s,
                        threshold=cfg.spotter_threshold or t.threshold, cpu_threads=cfg.whisper_threads,
                        heard_as=dict(v.stop_heard_as) | dict(t.heard_as), prompt=t.prompt,
                        first_word_only=t.first_word_only)
