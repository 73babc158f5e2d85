"""``robocorrect bench speech``: spoken corrections and the stop word, on a corpus made on this machine.

The corpus (cached under ``--work``): espeak-ng speaks every correction of the grounding cases
(``--cases``: the dev cases of ../shared/eval plus the held-out phrases of
tests/speech/data/heldout_corrections.jsonl), the stop phrases, and ``--minutes`` of non-stop speech
(correction phrases in a row, 0.3-0.8 s apart), cycling six voices and three speeds; sox adds room noise
at 20 dB and 10 dB SNR. Figures (``noise`` levels: clean, 20 dB, 10 dB):

- ``wer``: word error rate of the recogniser on the corrections (punctuation and case folded).
- ``grounding_typed`` / ``grounding_spoken``: share of cases the embedded policy grounds right
  (../shared/eval/score_grounding.py checks) from the typed text / from the transcript;
  ``spoken_over_typed`` their ratio.
- ``stop_recall``: spoken stop phrases that the stop spotter caught; ``false_stops_per_hour``: spotter
  hits in the non-stop speech, per hour of it; ``false_stops``: each of those hits (noise level, the phrase
  said, its recording, seconds into it), ``stops_missed``: the first ten stop phrases it did not catch.
- ``stop_latency_ms``: end of the stop word (from the clean recording) -> the spotter's call, on a
  real-time clock: chunks arrive every 20 ms as from a microphone and each waits for the previous one's
  processing (measured wall time on this CPU), so a slow decode delays what follows.
- ``utterance_to_change_ms``: end of a correction -> changed arguments: the hands-free segmenter's
  end-pointing delay (end of speech -> the utterance closed, its chunks fed on the real-time clock, as
  from a microphone) + Whisper's wall time + the policy's grounding wall time (cases whose plan
  changed, clean audio).
- ``load_avg_1min`` (start, end) and ``cpu_share``: what else the machine was doing (this process's CPU
  seconds / wall seconds; 2.0 would be both cores).

    robocorrect bench speech --json
    robocorrect bench speech --limit 20 --minutes 2 --json     # a quick look
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

STOP_PHRASES = ("stop", "wait", "halt", "stop now", "stop stop")
NOISE = {"clean": None, "20dB": 20.0, "10dB": 10.0}


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cases", action="append", default=None,
                   help="grounding cases (repeatable; default ../shared/eval/grounding_dev.jsonl and tests/speech/data/heldout_corrections.jsonl)")
    p.add_argument("--scorer", default="../shared/eval/score_grounding.py", help="the grounding scorer (check_case)")
    p.add_argument("--work", default=str(Path.home() / ".cache" / "robocorrect" / "speech-corpus"), help="corpus cache folder")
    p.add_argument("--limit", type=int, default=0, help="use only the first N correction cases (0: all)")
    p.add_argument("--minutes", type=float, default=10.0, help="minutes of non-stop speech for false stops (default 10)")
    p.add_argument("--spotter", default="kws", choices=("kws", "burst", "keyphrase"), help="stop spotter to measure")
    p.add_argument("--recognizer", default="whisper", choices=("whisper", "sphinx"), help="recogniser to measure")
    p.add_argument("--adapter", default="default", help="Whisper decoder adapter: default (speech/data/whisper_base_adapter.npz), none, or a file")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")


def _fold(s: str) -> list[str]:
    return re.sub(r"[^\w\s']", " ", s.lower()).split()


def wer(refs: list[str], hyps: list[str]) -> float:
    """Word error rate: word edit distance summed over pairs / reference words."""
    err = n = 0
    for r, h in zip(refs, hyps):
        a, b = _fold(r), _fold(h)
        d = list(range(len(b) + 1))
        for i in range(1, len(a) + 1):
            prev, d[0] = d[0], i
            for j in range(1, len(b) + 1):
                cur = min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] != b[j - 1]))
                prev, d[j] = d[j], cur
        err += d[len(b)]
        n += len(a)
    return err / max(1, n)


def _scorer(path: str) -> Callable[[dict[str, Any], dict[str, Any]], list[str]]:
    from hardware.errors import UsageError

    if not Path(path).is_file():
        raise UsageError(f"--scorer {path}: no such file (run from the project root, with ../shared beside it)")
    spec = importlib.util.spec_from_file_location("score_grounding", path)
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod.check_case


def _voice(i: int) -> tuple[str, int]:
    from speech.tts import SPEEDS, VOICES

    return VOICES[i % len(VOICES)], SPEEDS[(i // len(VOICES)) % len(SPEEDS)]


def _variants(clean: Path, work: Path, seed: int) -> dict[str, Path]:
    from speech.tts import add_noise

    out = {}
    for name, snr in NOISE.items():
        out[name] = clean if snr is None else add_noise(clean, work / name / clean.name, snr, seed)
    return out


class _Timed:
    """Wall time of each call of ``fn``."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn, self.last = fn, 0.0

    def __call__(self, *a: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return self.fn(*a)
        finally:
            self.last = time.perf_counter() - t0


def real_time_feed(part: Any, audio: np.ndarray) -> Iterator[tuple[float, float, Any]]:
    """Feed ``audio`` (16 kHz mono float) to ``part`` (a spotter or segmenter: ``reset()``, ``feed(Chunk)``) chunk by
    chunk as on the real-time clock (each chunk waits for the previous one's processing); yields (audio t of the
    chunk s, finish time s, what ``feed`` returned) for every chunk that returned something."""
    from speech.base import CHUNK, SAMPLE_RATE, Chunk

    part.reset()
    finish = 0.0
    for k in range(0, len(audio) - CHUNK + 1, CHUNK):
        t = (k + CHUNK) / SAMPLE_RATE
        t0 = time.perf_counter()
        out = part.feed(Chunk(audio[k:k + CHUNK], t, t0))
        finish = max(t, finish) + (time.perf_counter() - t0)
        if out is not None:
            yield t, finish, out


def _spot(spotter: Any, audio: np.ndarray) -> tuple[list[tuple[float, float]], float]:
    """Run the spotter over ``audio`` on the real-time clock; [(audio t of the hit chunk, finish time s)]."""
    from speech.base import SAMPLE_RATE

    return [(t, finish) for t, finish, _ in real_time_feed(spotter, audio)], len(audio) / SAMPLE_RATE


def _endpoint_delay(segmenter: Any, audio: np.ndarray, end_s: float) -> float:
    """Seconds from ``end_s`` (end of speech, audio time) to when the segmenter closes the last utterance,
    its chunks arriving on the real-time clock (each waits for the previous one's processing)."""
    from speech.base import SAMPLE_RATE

    closed = None
    for _t, finish, _seg in real_time_feed(segmenter, audio):
        closed = finish
    return (closed if closed is not None else len(audio) / SAMPLE_RATE) - end_s


def bench(cases_paths: list[str], scorer: str, work: Path, limit: int = 0, minutes: float = 10.0,
          spotter_kind: str = "kws", recognizer_kind: str = "whisper", log: Callable[[str], None] = print,
          adapter: str = "default") -> dict[str, Any]:
    """Build (or reuse) the corpus and measure; returns the figures (see the module docstring)."""
    from agent.evaluate import percentile, read_cases
    from agent.factory import make_policy
    from agent.voice import transcribe_file
    from speech.config import SpeechConfig
    from speech.factory import make_recognizer, make_segmenter, make_spotter
    from speech.sources import read_wav
    from speech.tts import speak, speech_span

    check = _scorer(scorer)
    cases = [c | {"_set": Path(p).stem} for p in cases_paths for c in read_cases(p)]
    if limit:
        cases = cases[:limit]
    work.mkdir(parents=True, exist_ok=True)
    cfg = SpeechConfig(recognizer=recognizer_kind, spotter=spotter_kind, whisper_adapter=adapter)
    t_build = time.perf_counter()
    corr = {}
    for i, c in enumerate(cases):
        v, s = _voice(i)
        corr[c["id"]] = _variants(speak(c["utterance"], work / "clean" / f"{c['id']}.wav", v, s), work, i)
    stops = []
    for i in range(len(STOP_PHRASES) * 18):
        phrase = STOP_PHRASES[i % len(STOP_PHRASES)]
        v, s = _voice(i // len(STOP_PHRASES))
        clean = speak(phrase, work / "clean" / f"stop{i:03d}.wav", v, s)
        stops.append((phrase, clean, _variants(clean, work, 1000 + i)))
    # non-stop speech: corrections said in a row, no stop words, until `minutes` of audio
    from speech.vocab import load_vocabulary

    sw = set(load_vocabulary().stop_words)
    phrases = [c["utterance"] for c in cases if not (set(_fold(c["utterance"])) & sw)]
    rng = np.random.default_rng(7)
    stretches, total, k = [], 0.0, 0
    while total < minutes * 60 and phrases:
        text = phrases[k % len(phrases)]
        v, s = _voice(k + 3)
        clean = speak(text, work / "clean" / f"run{k:04d}.wav", v, s, pad_s=float(rng.uniform(0.15, 0.4)))
        stretches.append((text, clean))
        total += len(read_wav(clean)) / 16000
        k += 1
    log(f"corpus: {len(cases)} corrections, {len(stops)} stop phrases, {total / 60:.1f} min of non-stop speech "
        f"x {len(NOISE)} noise levels in {work} ({time.perf_counter() - t_build:.0f} s)")

    # --- recognition and grounding -----------------------------------------------------------------
    policy = make_policy("embedded")
    rec = make_recognizer(cfg)
    rec.warm_up()
    segmenter = make_segmenter(cfg)
    endpoint = {c["id"]: _endpoint_delay(segmenter, read_wav(corr[c["id"]]["clean"]), speech_span(read_wav(corr[c["id"]]["clean"]))[1])
                for c in cases}
    typed_ok = 0
    ground = _Timed(policy.ground)
    res: dict[str, Any] = {"wer": {}, "grounding_spoken": {}, "spoken_over_typed": {}, "asr_ms_p50": {},
                           "wer_by_voice": {}, "wer_by_speed": {}, "spoken_over_typed_by_voice": {}, "spoken_over_typed_by_set": {}}
    said_by = {c["id"]: _voice(i) for i, c in enumerate(cases)}
    change_ms: list[float] = []
    typed = {}
    for c in cases:
        args = (c["scene"], c.get("task", ""), c["plan"], int(c.get("step", 0)), c.get("history", []), c.get("knowledge", []))
        g = policy.ground(*args, c["utterance"])
        typed[c["id"]] = not check(c, {"level": g.level, "plan": g.plan})
        typed_ok += typed[c["id"]]
    res["grounding_typed"] = round(typed_ok / max(1, len(cases)), 4)
    heard_examples: list[dict[str, Any]] = []
    for name in NOISE:
        refs, hyps, ok, asr = [], [], 0, []
        by_v: dict[str, list[tuple[str, str, bool]]] = {}
        by_s: dict[str, list[tuple[str, str, bool]]] = {}
        spoken_ok: dict[str, bool] = {}
        for c in cases:
            args = (c["scene"], c.get("task", ""), c["plan"], int(c.get("step", 0)), c.get("history", []), c.get("knowledge", []))
            t0 = time.perf_counter()
            text, _conf = transcribe_file(corr[c["id"]][name], rec, c["scene"])
            asr_s = time.perf_counter() - t0
            asr.append(asr_s * 1000)
            refs.append(c["utterance"])
            hyps.append(text)
            g = ground(*args, text)
            good = not check(c, {"level": g.level, "plan": g.plan})
            ok += good
            v, sp = said_by[c["id"]]
            spoken_ok[c["id"]] = bool(good)
            for d, key in ((by_v, v), (by_s, str(sp))):
                d.setdefault(key, []).append((c["utterance"], text, bool(good)))
            if name == "clean" and g.plan != c["plan"]:
                change_ms.append(1000 * (endpoint[c["id"]] + asr_s + ground.last))
            if typed[c["id"]] and not good and len(heard_examples) < 12:
                heard_examples.append({"noise": name, "said": c["utterance"], "heard": text})
        res["wer"][name] = round(wer(refs, hyps), 4)
        res["grounding_spoken"][name] = round(ok / max(1, len(cases)), 4)
        res["spoken_over_typed"][name] = round(ok / max(1, typed_ok), 4)
        res["asr_ms_p50"][name] = round(percentile(asr, 50), 1)
        res["wer_by_voice"][name] = {k: round(wer([a for a, _, _ in x], [b for _, b, _ in x]), 3) for k, x in sorted(by_v.items())}
        res["wer_by_speed"][name] = {k: round(wer([a for a, _, _ in x], [b for _, b, _ in x]), 3) for k, x in sorted(by_s.items())}
        res["spoken_over_typed_by_set"][name] = {
            k: round(sum(1 for c in cases if c["_set"] == k and spoken_ok[c["id"]]) / max(1, sum(typed[c["id"]] for c in cases if c["_set"] == k)), 3)
            for k in sorted({c["_set"] for c in cases})}
        res["spoken_over_typed_by_voice"][name] = {
            k: round(sum(g for _, _, g in x) / max(1, sum(typed[c["id"]] for c in cases if said_by[c["id"]][0] == k)), 3)
            for k, x in sorted(by_v.items())}
        log(f"{name}: WER {res['wer'][name]:.3f}  grounding spoken {res['grounding_spoken'][name]:.3f} "
            f"(typed {res['grounding_typed']:.3f}, ratio {res['spoken_over_typed'][name]:.3f})")
    res["endpoint_ms_p50"] = round(1000 * percentile(list(endpoint.values()), 50), 1)
    res["utterance_to_change_ms_p50"] = round(percentile(change_ms, 50), 1)
    res["utterance_to_change_ms_p95"] = round(percentile(change_ms, 95), 1)
    res["asr_errors_that_broke_grounding"] = heard_examples

    # --- the stop word -------------------------------------------------------------------------------
    spotter = make_spotter(cfg)
    warm = getattr(spotter, "warm_up", None)
    if warm is not None:
        warm()
    res["stop_recall"], res["false_stops_per_hour"], lat = {}, {}, []
    missed: list[dict[str, Any]] = []
    false_at: list[dict[str, Any]] = []  # where the non-stop speech made the spotter call a stop
    for name in NOISE:
        caught = 0
        for phrase, clean, var in stops:
            _lo, end = speech_span(read_wav(clean))
            hits, _dur = _spot(spotter, read_wav(var[name]))
            hits = [h for h in hits if h[0] >= _lo - 0.05]
            if hits:
                caught += 1
                lat.append(1000 * (hits[0][1] - end))
            elif len(missed) < 10:
                missed.append({"noise": name, "phrase": phrase, "file": clean.name, "heard": getattr(spotter, "last_text", "")})
        false, dur = 0, 0.0
        for text, clean in stretches:
            path = clean if NOISE[name] is None else _variants(clean, work, 5000 + int(clean.stem[3:]))[name]
            hits, d = _spot(spotter, read_wav(path))
            false += len(hits)
            dur += d
            false_at += [{"noise": name, "said": text, "file": clean.name, "at_s": round(t, 2)} for t, _f in hits]
        res["stop_recall"][name] = round(caught / max(1, len(stops)), 4)
        res["false_stops_per_hour"][name] = round(false / max(dur, 1e-9) * 3600, 2)
        log(f"{name}: stop recall {res['stop_recall'][name]:.3f}; {false} false stops in {dur / 60:.1f} min")
    res["stop_latency_ms_p50"] = round(percentile(lat, 50), 1)
    res["stop_latency_ms_p95"] = round(percentile(lat, 95), 1)
    res["stops_missed"] = missed
    res["false_stops"] = false_at
    res.update({"cases": len(cases), "stop_phrases": len(stops), "nonstop_minutes": round(total / 60, 2),
                "recognizer": recognizer_kind, "whisper_model": cfg.whisper_model, "whisper_window_s": cfg.whisper_window_s,
                "whisper_fixes": cfg.whisper_fixes, "whisper_lexicon_weight": cfg.whisper_lexicon_weight,
                "whisper_constrain": cfg.whisper_constrain, "whisper_constrain_gap": cfg.whisper_constrain_gap,
                "whisper_lm_weight": cfg.whisper_lm_weight, "whisper_adapter": _adapter_name(cfg),
                "vad": cfg.vad, "spotter": spotter_kind})
    if spotter_kind == "kws":
        res.update({"spotter_threshold": spotter.threshold, "spotter_consecutive": spotter.consecutive})
    if spotter_kind == "burst":
        res.update({"spotter_model": spotter.model_name, "spotter_threshold": spotter.threshold,
                    "spotter_close_silence_s": round(spotter.gate.close_frames * 0.02, 3)})
    return res


def _adapter_name(cfg: Any) -> str | None:
    """The decoder adapter the recogniser merged: its file name and the first 12 hex of its sha1; None without one."""
    import hashlib

    from speech.whisper import adapter_path

    if cfg.recognizer != "whisper":
        return None
    p = adapter_path(cfg.whisper_adapter, cfg.whisper_model)
    return f"{p.name}@{hashlib.sha1(p.read_bytes()).hexdigest()[:12]}" if p is not None else None


def run(args: argparse.Namespace) -> int:
    from speech.tts import have_tools

    from hardware.errors import UsageError

    if not have_tools():
        raise UsageError("bench speech makes its corpus with espeak-ng and sox: apt-get install -y espeak-ng sox")
    root = Path(__file__).resolve().parents[2]
    cases = args.cases or ["../shared/eval/grounding_dev.jsonl", str(root / "tests" / "speech" / "data" / "heldout_corrections.jsonl")]
    import os

    t0, cpu0, load0 = time.perf_counter(), time.process_time(), os.getloadavg()[0]
    res = bench(cases, args.scorer, Path(args.work), args.limit, args.minutes, args.spotter, args.recognizer,
                log=lambda m: print(m, file=sys.stderr if args.json else sys.stdout, flush=True), adapter=args.adapter)
    res["wall_s"] = round(time.perf_counter() - t0, 1)
    res["cpu_share"] = round((time.process_time() - cpu0) / max(res["wall_s"], 1e-9), 2)
    res["load_avg_1min"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
    if args.json:
        print(json.dumps(res))
    else:
        for k, v in res.items():
            print(f"{k}: {v}")
    return 0
