"""Calibrate the embedded policy's confidence on generated held-out cases (never on evaluation files).

    python3 -m agent.grounder.calibrate agent/checkpoints/embedded --n 600 --seed 1000

A reading's raw confidence is the product of its heads' probabilities (temperature-scaled); a product of
several probabilities is not itself a probability of being right, so this fits Platt scaling
``p = sigmoid(a * log(raw) + b)`` to whether the whole grounding of each case is right (the contract's
checks, :func:`check`), on cases generated from the held-out phrase templates with a seed training never
used. ``a``, ``b`` and the fit's figures are written into the checkpoint's ``config.json``
(``"calibration"``); the policy then abstains below 0.5 of that probability.
"""
from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path
from typing import Any

_AXES = {"x": 0, "y": 1, "z": 2}


def check(case: dict[str, Any], level: str, plan: list[dict[str, Any]]) -> bool:
    """The contract's checks (``shared/spec/corrections.md``): every expectation holds, every argument
    no check names is unchanged (offsets 2 mm, yaw 0.02 rad, ratios 2 %)."""
    before, named = case["plan"], set()
    skills = next((c["skills"] for c in case["expect"] if "skills" in c), None)
    if [s["skill"] for s in plan] != (skills or [s["skill"] for s in before]):
        return False
    for c in case["expect"]:
        if "level" in c:
            if level != c["level"]:
                return False
            continue
        if "skills" in c:
            continue
        i, arg = c["step"], c["arg"]
        named.add((i, arg))
        a = plan[i]["args"]
        b = before[i]["args"] if not skills and i < len(before) else {}
        if arg == "offset":
            d = float(a.get("offset", [0, 0, 0])[_AXES[c["axis"]]]) - float(b.get("offset", [0, 0, 0])[_AXES[c["axis"]]])
            ok = c["delta"][0] <= d <= c["delta"][1]
        elif arg == "yaw":
            d = float(a.get("yaw", 0.0)) - float(b.get("yaw", 0.0))
            ok = c["delta"][0] <= (abs(d) if c.get("abs") else d) <= c["delta"][1]
        elif arg in ("speed", "force", "height"):
            r = float(a.get(arg, 1.0)) / float(b.get(arg, 1.0))
            ok = c["ratio"][0] <= r <= c["ratio"][1]
        else:
            ok = a.get(arg) == c["equals"]
        if not ok:
            return False
    if skills:
        return True
    for i, (sb, sa) in enumerate(zip(before, plan)):
        for k in set(sb["args"]) | set(sa["args"]):
            if (i, k) in named:
                continue
            x, y = sb["args"].get(k), sa["args"].get(k)
            if k == "offset":
                if any(abs(float(p) - float(q)) > 0.002 for p, q in zip(x or [0, 0, 0], y or [0, 0, 0])):
                    return False
            elif k == "yaw":
                if abs(float(x or 0) - float(y or 0)) > 0.02:
                    return False
            elif isinstance(x, (int, float)) and isinstance(y, (int, float)):
                if abs(float(y) / float(x) - 1) > 0.02:
                    return False
            elif x != y:
                return False
    return True


def fit_platt(raw: list[float], ok: list[bool], steps: int = 3000, lr: float = 0.05) -> tuple[float, float]:
    """a, b minimising the log loss of sigmoid(a * log(raw) + b) against ``ok``."""
    import torch

    x = torch.tensor([math.log(max(r, 1e-6)) for r in raw])
    y = torch.tensor([float(o) for o in ok])
    a = torch.tensor(1.0, requires_grad=True)
    b = torch.tensor(0.0, requires_grad=True)
    opt = torch.optim.Adam([a, b], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(a * x + b, y)
        loss.backward()
        opt.step()
    return float(a.detach()), float(b.detach())


def calibrate(checkpoint: str, n: int = 600, seed: int = 1000) -> dict[str, Any]:
    from .corpus import ground_example, to_case
    from .policy import EmbeddedPolicy

    pol = EmbeddedPolicy(checkpoint=checkpoint, abstain_below=0.0, unknown_word_below=0.0)
    pol.platt = None  # raw confidences
    rng = random.Random(f"calibrate-{seed}-test")
    raw, ok = [], []
    for i in range(n):
        c = to_case(ground_example(rng, "test"), f"c{i}")
        g = pol.ground(c["scene"], c["task"], c["plan"], c["step"], c["history"], [], c["utterance"])
        if "confidence" not in g.parsed or g.parsed.get("safety"):
            continue  # safety words and geometry have no model reading
        raw.append(float(g.parsed["confidence"]))
        ok.append(check(c, g.level, g.plan))
    a, b = fit_platt(raw, ok)
    p = Path(checkpoint) / "config.json"
    meta = json.loads(p.read_text())
    meta["calibration"] = {"a": round(a, 4), "b": round(b, 4), "cases": len(raw), "seed": seed, "split": "test",
                           "accuracy_of_readings": round(sum(ok) / max(1, len(ok)), 4),
                           "command": f"python3 -m agent.grounder.calibrate {checkpoint} --n {n} --seed {seed}"}
    p.write_text(json.dumps(meta, indent=1))
    return meta["calibration"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--seed", type=int, default=1000)
    a = ap.parse_args(argv)
    print(json.dumps(calibrate(a.checkpoint, a.n, a.seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
