"""Figures of a grounding run beyond accuracy: non-corrections, calibration (ECE), per source kind.

    python3 -m agent.cli ground tests/data/real_corrections.jsonl --out /tmp/real.jsonl
    python3 -m agent.grounder.report tests/data/real_corrections.jsonl /tmp/real.jsonl --scorer ../shared/eval/score_grounding.py

A case passes when the contract scorer (``check_case`` of ``shared/eval/score_grounding.py``) finds no
reason to fail it. Cases with ``"kind": "non_correction"`` also count as "changed nothing" when the plan
is unchanged, and as "moved the robot" when the answer is a skill / plan change or a stop. ECE: the
answers' ``confidence`` (the policy's calibrated probability of its reading) against pass / fail, 10
equal-width bins, weighted by the bin's share of cases. The last line is one JSON object.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path
from typing import Any, Callable


def load_checker(path: str) -> Callable[[dict[str, Any], dict[str, Any]], list[str]]:
    spec = importlib.util.spec_from_file_location("score_grounding", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"no scorer at {path}")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.check_case


def ece(conf: list[float], ok: list[bool], bins: int = 10) -> float:
    """Expected calibration error of confidences ``conf`` against outcomes ``ok``."""
    n = len(conf)
    if not n:
        return float("nan")
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        idx = [i for i, c in enumerate(conf) if lo <= c < hi or (b == bins - 1 and c == 1.0)]
        if idx:
            acc = sum(ok[i] for i in idx) / len(idx)
            avg = sum(conf[i] for i in idx) / len(idx)
            total += len(idx) / n * abs(acc - avg)
    return total


def report(cases: list[dict[str, Any]], answers: list[dict[str, Any]], check: Callable[..., list[str]]) -> dict[str, Any]:
    by_id = {a.get("id"): a for a in answers}
    out: dict[str, Any] = {}
    conf, ok_all = [], []
    kinds: dict[str, list[bool]] = {}
    unchanged, moved, failures = [], 0, []
    for c in cases:
        a = by_id.get(c["id"], {"level": "none", "plan": None, "error": "no answer"})
        ok = not check(c, a)
        kind = c.get("kind", "correction")
        kinds.setdefault(kind, []).append(ok)
        ok_all.append(ok)
        conf.append(float(a.get("confidence", 1.0)))
        if not ok:
            failures.append({"id": c["id"], "utterance": c["utterance"], "level": a.get("level"), "question": a.get("question"),
                             "changes": a.get("changes")})
        if kind == "non_correction":
            same = a.get("plan") == c["plan"]
            unchanged.append(same)
            moved += int(a.get("level") in ("skill", "plan", "stop") or not same)
    for k, v in sorted(kinds.items()):
        out[f"accuracy_{k}"] = round(sum(v) / len(v), 4)
        out[f"n_{k}"] = len(v)
    if unchanged:
        out["non_corrections_changed_nothing"] = round(sum(unchanged) / len(unchanged), 4)
        out["non_corrections_moved_robot"] = moved
    out["accuracy"] = round(sum(ok_all) / max(1, len(ok_all)), 4)
    out["ece"] = round(ece(conf, ok_all), 4)
    out["failures"] = failures
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("cases")
    p.add_argument("answers")
    p.add_argument("--scorer", default=str(Path("..") / "shared" / "eval" / "score_grounding.py"))
    a = p.parse_args(argv)
    cases = [json.loads(x) for x in Path(a.cases).read_text(encoding="utf-8").splitlines() if x.strip()]
    answers = [json.loads(x) for x in Path(a.answers).read_text(encoding="utf-8").splitlines() if x.strip()]
    r = report(cases, answers, load_checker(a.scorer))
    for f in r["failures"]:
        print(f"FAIL {f['id']}: {f['utterance']!r} -> {f['level']} {f.get('changes') or ''} {f.get('question') or ''}")
    print(json.dumps({k: v for k, v in r.items() if k != "failures"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
