"""The promotion gate: a candidate checkpoint replaces the active one only when it is better where it should be
and breaks (almost) nothing that worked.

Accepted when all hold:

1. **better on the new utterances**: exact accuracy (every labelled head and pointer right) on the held-out
   hindsight examples (episodes of the logs never trained on) is higher than the active checkpoint's, by at
   least ``min_gain``; or, where the two read the held-out utterances equally well (both 1.0 on a small slice
   leaves nothing to gain), the candidate's learned plan arguments answer more of the held-out episodes' steps
   right (check 3: ``fixed`` > 0) and none it had right wrong; or, with the cross-check
   (:func:`agent.learn.retrain.cross_check`: each other held-out slice read by a model the same recipe trained
   without it), the candidate is no worse on its own slice and better than the active checkpoint pooled over
   all slices (ten utterances of one slice are too few to tell a recipe that helps from one that does not).
   Equal on all is not better;
2. **few flips**: of the regression cases the active checkpoint gets right, the candidate gets at most
   ``max_flip`` (1 %) wrong. The regression suite is fixed: the held-out log slice, safety cases (stop words
   and non-corrections: praise, chatter, contradictions without content) and a generated held-out slice
   (test templates, fixed seed), plus the dev set's contract cases (``shared/eval/grounding_dev.jsonl``,
   read for this check only, never trained on) when it is present. The held-out and generated cases are judged
   on the heads as the reader reads them (:func:`exact_correct`); the safety and dev cases through the full
   policy with its thresholds and rules (a stop read as a stop; anything else leaves the plan as it was);
3. **plan arguments no worse**: the learned plan arguments (:mod:`agent.learn.plan_args`) answer the held-out
   episodes' steps (the default where it worked, the value that worked where a correction set one); of the answers
   the active checkpoint gets right, the candidate gets at most ``max_flip`` wrong.
"""
from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import torch

from .data import IGNORE, FeatureSet

DEV_SET = Path(__file__).resolve().parents[3] / "shared" / "eval" / "grounding_dev.jsonl"


@dataclass
class GateConfig:
    """``min_gain``: accuracy points (fraction) the candidate must gain on held-out new utterances;
    ``max_flip``: largest fraction of previously right regression cases it may get wrong; ``n_safety`` /
    ``n_generated``: size of the generated parts of the regression suite (seed ``seed``); ``dev``: dev set file
    (None: the shared one when present; "" : none)."""

    min_gain: float = 0.0
    max_flip: float = 0.01
    n_safety: int = 150
    n_generated: int = 250
    seed: int = 4242
    dev: Optional[str] = None


@dataclass
class GateReport:
    accepted: bool
    reasons: list[str]
    heldout_active: float
    heldout_candidate: float
    n_heldout: int
    flips: int
    previously_right: int
    flip_rate: float
    dev_active: Optional[float] = None
    dev_candidate: Optional[float] = None
    parts: dict[str, Any] = field(default_factory=dict)
    plan_args: Optional[dict[str, Any]] = None
    cross: Optional[dict[str, Any]] = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_heads(ex: dict[str, Any]) -> Optional[frozenset[str]]:
    """The heads the embedded policy reads to answer an example with its labels (None: every labelled head).

    A reading is its level; a new skill change also its ``active`` class and the heads that class names ("y" for
    "a bit to the left": the x head is never read then), "more of the same" its ``hmag``; a plan edit its plan op
    and pointers. Stop, praise and "not a correction" are their level only."""
    lab = ex.get("labels") or {}
    if ex.get("kind") != "ground" or "level" not in lab:
        return None
    heads = {"level"}
    if lab["level"] == "skill":
        heads.add("hist")
        if lab.get("hist", "new") == "new":
            act = lab.get("active") or "+".join(h for h in ("x", "y", "z", "yaw", "speed", "force", "height") if lab.get(h, "none") != "none")
            heads |= {"active", *(h for h in act.split("+") if h != "none")}
        elif lab.get("hist") == "repeat":
            heads.add("hmag")
    elif lab["level"] == "plan":
        heads |= {"plan_op", "g_obj", "g_tgt"}
    return frozenset(heads)


NOT_NONE_READ = ("active", "x", "y", "z", "yaw", "speed", "force", "height", "plan_op")
"""Heads the reader (:mod:`agent.grounder.reader`) reads without their "none" class once it knows they change: the
active set of a new skill change, each argument that set names, and the plan edit of a plan-level reading."""


@torch.no_grad()
def exact_correct(net: torch.nn.Module, data: FeatureSet, batch: int = 256) -> list[bool]:
    """Per example: is every labelled head the policy reads for it (:func:`read_heads`), every pointer and set
    membership predicted right? Heads are read as the reader reads them: the argmax, and for the heads of
    :data:`NOT_NONE_READ` whose label names a change, the best class other than "none" (a reading whose active set
    is wrong is already wrong on the ``active`` head)."""
    net.eval()
    out_ok: list[bool] = []
    for s in range(0, len(data), batch):
        idx = list(range(s, min(len(data), s + batch)))
        b = data.collate(idx)
        out = net(b["tok"].float(), b["mask"], b["mode"], b["hist"], b["obj_vec"], b["obj_feat"], b["obj_mask"])
        ok = torch.ones(len(idx), dtype=torch.bool)
        reads = [read_heads(data.examples[i]) if data.examples else None for i in idx]
        for k, y in b["y"].items():
            has = (y != IGNORE) & torch.tensor([r is None or k in r for r in reads])
            if has.any():
                pred = out[k].argmax(-1)
                if k in NOT_NONE_READ:  # as the reader does: an argument it changes gets its best class other than "none"
                    named = torch.tensor([r is not None for r in reads]) & (y != IGNORE) & (y != 0)
                    pred = torch.where(named, out[k][:, 1:].argmax(-1) + 1, pred)
                ok &= ~has | (pred == y)
        for j in range(len(idx)):
            if b["has_set"][j]:
                n = int(b["obj_mask"][j].sum())
                ok[j] &= bool(((out["set"][j, :n] > 0).float() == b["set"][j, :n]).all())
        out_ok += ok.tolist()
    return out_ok


def safety_and_generated(cfg: GateConfig) -> list[dict[str, Any]]:
    """Generated regression examples: stop words and non-corrections, and a held-out slice (test templates)."""
    from agent.grounder.corpus import ground_example, plan_example

    rng = random.Random(f"gate-{cfg.seed}")
    safety: list[dict[str, Any]] = []
    tries = 0
    while len(safety) < cfg.n_safety and tries < cfg.n_safety * 60:
        tries += 1
        ex = ground_example(rng, "test")
        if ex["labels"]["level"] in ("stop", "none", "unclear"):
            safety.append({**ex, "source": "safety"})
    gen = [{**ground_example(rng, "test"), "source": "generated"} for _ in range(cfg.n_generated)]
    gen += [{**plan_example(rng, "test"), "source": "generated"} for _ in range(cfg.n_generated // 5)]
    return safety + gen


def dev_scores(pol: Any, path: Path) -> list[bool]:
    """Per dev case: does the full policy's answer (``pol``: an :class:`~agent.grounder.policy.EmbeddedPolicy`)
    pass the contract checks (``score_grounding.check_case``)?"""
    import importlib.util

    spec = importlib.util.spec_from_file_location("score_grounding", path.parent / "score_grounding.py")
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    oks = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        case = json.loads(line)
        try:
            g = pol.ground(case["scene"], case["task"], case["plan"], case["step"], case.get("history", []), [], case["utterance"])
            ans = {"level": g.level, "plan": g.plan}
        except Exception as e:  # a policy error is a failed case, as in robocorrect ground
            ans = {"error": str(e)}
        oks.append(not mod.check_case(case, ans))
    return oks


def safety_scores(pol: Any, examples: list[dict[str, Any]]) -> list[bool]:
    """Per safety case (stop words and non-corrections), through the full policy (``pol``: an
    :class:`~agent.grounder.policy.EmbeddedPolicy`) with its thresholds, as a user meets it: a stop must be read as
    a stop, and anything else must leave the plan as it was (asking is fine)."""
    oks = []
    for ex in examples:
        try:
            g = pol.ground(ex["scene"], ex["task"], ex["plan"], ex["step"], ex.get("history", []), [], ex["utterance"])
        except Exception:  # a policy error is a failed case
            oks.append(False)
            continue
        if ex["labels"]["level"] == "stop":
            oks.append(g.level == "stop")
        else:
            oks.append(g.level not in ("skill", "plan") and not g.changes and g.plan == ex["plan"])
    return oks


def with_safety(pol: Any, regression: FeatureSet, head_ok: list[bool]) -> list[bool]:
    """``head_ok`` with the regression suite's safety cases judged by :func:`safety_scores` instead."""
    idx = [i for i, ex in enumerate(regression.examples) if ex.get("source") == "safety" and "scene" in ex]
    if not idx:
        return head_ok
    out = list(head_ok)
    for i, ok in zip(idx, safety_scores(pol, [regression.examples[i] for i in idx])):
        out[i] = ok
    return out


def better_on_new(h_a: list[bool], h_c: list[bool], pool_a: list[bool], pool_c: list[bool], min_gain: float = 0.0,
                  plan_args: Optional[dict[str, Any]] = None) -> bool:
    """Check 1 of the module docstring: ``h_a`` / ``h_c``: the active / candidate checkpoint right or not on each
    utterance of the candidate's own held-out slice; ``pool_a`` / ``pool_c``: the same on every held-out slice (the
    own one first, then the cross-check's: other slices read by models retrained without them)."""
    acc_a, acc_c = sum(h_a) / max(1, len(h_a)), sum(h_c) / max(1, len(h_c))
    if not h_a:
        return False
    if acc_c > acc_a + min_gain + 1e-12 or _better_steps(acc_a, acc_c, plan_args):
        return True
    pacc_a, pacc_c = sum(pool_a) / max(1, len(pool_a)), sum(pool_c) / max(1, len(pool_c))
    return len(pool_a) > len(h_a) and pacc_c > pacc_a + min_gain + 1e-12 and acc_c >= acc_a - 1e-12


def _better_steps(acc_a: float, acc_c: float, plan_args: Optional[dict[str, Any]]) -> bool:
    """Equal on the held-out utterances, and the learned plan arguments answer more held-out steps right and none
    of the active checkpoint's right answers wrong (module docstring, check 1)."""
    return bool(plan_args) and abs(acc_c - acc_a) < 1e-12 and plan_args.get("fixed", 0) > 0 and plan_args.get("flips", 0) == 0


def judge(active_ckpt: str, candidate_ckpt: str, heldout: FeatureSet, regression: FeatureSet, cfg: GateConfig,
          log: Callable[[str], None] = print, plan_args: Optional[dict[str, Any]] = None,
          cross: Optional[dict[str, Any]] = None) -> GateReport:
    """Compare two checkpoints on the held-out new utterances and the regression suite (module docstring).
    ``plan_args``: the plan-argument check (:func:`agent.learn.plan_args.compare`) on the held-out episodes;
    ``cross``: the other held-out slices read by models retrained without them
    (:func:`agent.learn.retrain.cross_check`), pooled with the candidate's own slice for check 1."""
    from agent.grounder.policy import EmbeddedPolicy

    a_pol, c_pol = EmbeddedPolicy(active_ckpt), EmbeddedPolicy(candidate_ckpt)  # their nets answer the head checks too
    a_net, c_net = a_pol.net, c_pol.net
    reasons: list[str] = []
    h_a = exact_correct(a_net, heldout) if len(heldout) else []
    h_c = exact_correct(c_net, heldout) if len(heldout) else []
    acc_a = sum(h_a) / max(1, len(h_a))
    acc_c = sum(h_c) / max(1, len(h_c))
    r_a = with_safety(a_pol, regression, exact_correct(a_net, regression)) + h_a
    r_c = with_safety(c_pol, regression, exact_correct(c_net, regression)) + h_c
    parts: dict[str, Any] = {}
    dev_a = dev_c = None
    dev = Path(cfg.dev) if cfg.dev else (DEV_SET if cfg.dev is None else None)
    if dev is not None and dev.is_file():
        d_a, d_c = dev_scores(a_pol, dev), dev_scores(c_pol, dev)
        dev_a, dev_c = sum(d_a) / max(1, len(d_a)), sum(d_c) / max(1, len(d_c))
        r_a, r_c = r_a + d_a, r_c + d_c
    prev = sum(r_a)
    flips = sum(1 for x, y in zip(r_a, r_c) if x and not y)
    rate = flips / max(1, prev)
    by_src: dict[str, list[int]] = {}
    for ex, x, y in zip(regression.examples, r_a, r_c):
        s = by_src.setdefault(ex.get("source", "?"), [0, 0, 0])
        s[0] += 1
        s[1] += int(x)
        s[2] += int(y)
    parts = {k: {"n": v[0], "active": round(v[1] / v[0], 4), "candidate": round(v[2] / v[0], 4)} for k, v in by_src.items()}
    pool_a = h_a + list((cross or {}).get("active_ok", []))
    pool_c = h_c + list((cross or {}).get("candidate_ok", []))
    pacc_a, pacc_c = sum(pool_a) / max(1, len(pool_a)), sum(pool_c) / max(1, len(pool_c))
    if not h_a:
        reasons.append("no held-out utterances in the logs to judge the candidate on")
    elif not better_on_new(h_a, h_c, pool_a, pool_c, cfg.min_gain, plan_args):  # equal is not better
        reasons.append(f"not better on held-out new utterances ({acc_c:.3f} vs active {acc_a:.3f})"
                       + (" nor on the held-out steps' plan arguments" if plan_args and abs(acc_c - acc_a) < 1e-12 else "")
                       + (f" nor on all {len(pool_a)} held-out slices' utterances ({pacc_c:.3f} vs {pacc_a:.3f})" if len(pool_a) > len(h_a) else ""))
    if rate > cfg.max_flip:
        reasons.append(f"flips {flips} of {prev} previously right regression cases ({rate:.1%} > {cfg.max_flip:.0%})")
    if plan_args and plan_args.get("flip_rate", 0.0) > cfg.max_flip:
        reasons.append(f"plan arguments: flips {plan_args['flips']} of {plan_args['previously_right']} previously right "
                       f"held-out answers ({plan_args['flip_rate']:.1%} > {cfg.max_flip:.0%})")
    rep = GateReport(accepted=not reasons, reasons=reasons, heldout_active=round(acc_a, 4), heldout_candidate=round(acc_c, 4),
                     n_heldout=len(h_a), flips=flips, previously_right=prev, flip_rate=round(rate, 4),
                     dev_active=None if dev_a is None else round(dev_a, 4), dev_candidate=None if dev_c is None else round(dev_c, 4),
                     parts=parts, plan_args=plan_args)
    if len(pool_a) > len(h_a):
        rep.cross = {"n": len(pool_a), "active": round(pacc_a, 4), "candidate": round(pacc_c, 4),
                     "folds": (cross or {}).get("folds", [])}
    log(f"gate: held-out new utterances {acc_a:.3f} -> {acc_c:.3f} (n={len(h_a)})"
        + (f", all slices {pacc_a:.3f} -> {pacc_c:.3f} (n={len(pool_a)})" if len(pool_a) > len(h_a) else "")
        + f"; flips {flips}/{prev} ({rate:.1%})"
        + (f"; dev {dev_a:.3f} -> {dev_c:.3f}" if dev_a is not None else "")
        + (f"; plan arguments: fired {plan_args['fired']}, fixed {plan_args['fixed']}, flips {plan_args['flips']}/"
           f"{plan_args['previously_right']}" if plan_args else "") + f": {'ACCEPT' if rep.accepted else 'REJECT'}"
        + ("" if rep.accepted else f" ({'; '.join(reasons)})"))
    return rep
