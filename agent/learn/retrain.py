"""``robocorrect retrain``: learn from the episodes logged since the active checkpoint, promote only through the gate.

    robocorrect retrain --log ~/.robocorrect/episodes                  # once: data -> finetune -> gate -> promote?
    robocorrect retrain --log LOG --watch --every 20                   # after every 20 new episodes, in the background
    robocorrect train --episodes LOG [LOG...] --base CK --out DIR      # only the finetune (no gate, no registry)

One round: the ended episodes of the logs (those started after the active checkpoint was made, unless
``--all``) give hindsight examples (:mod:`agent.learn.hindsight`); a hashed 20 % of the episodes is held out;
the rest plus generated replay is encoded into a feature file, the active checkpoint is finetuned on it
(:mod:`agent.learn.finetune`, a subprocess with ``--launcher torchrun`` for several processes); the cross-check
(:func:`cross_check`, ``--cross``) finetunes the same way without each other held-out slice in turn, for more
held-out utterances than one slice holds; and the gate (:mod:`agent.learn.gate`) compares candidate and active.
Accepted candidates become active in the registry (:mod:`agent.learn.registry`); rejected ones stay registered
(and on disk) but inactive.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from .errors import LearnError, LearnUsageError


@dataclass
class RetrainConfig:
    """One retraining round (see the module docstring); every field is a flag of ``robocorrect retrain``."""

    logs: list[str] = field(default_factory=list)
    registry: Optional[str] = None
    all_episodes: bool = False
    device: str = "auto"
    epochs: int = 4
    batch: int = 64
    lr: float = 1e-3  # only the argument heads train (--heads args); the shipped heads were trained at 1.5e-3
    replay_ground: int = 3000
    replay_plan: int = 600
    log_weight: int = 8
    lexicon: int = 300
    frames: int = 60
    heads: str = "args"
    distill: float = 1.0
    holdout: float = 0.2
    cross: int = 4
    workers: int = 0
    threads: int = 1
    launcher: str = "inline"
    nproc: int = 2
    min_gain: float = 0.0
    max_flip: float = 0.01
    dev: Optional[str] = None
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.logs:
            raise LearnUsageError("give the episode log folder(s): --log DIR [DIR...]")
        if self.launcher not in ("inline", "torchrun"):
            raise LearnUsageError(f"--launcher must be inline or torchrun, not {self.launcher!r}")
        if not 0.0 < self.holdout < 1.0:
            raise LearnUsageError(f"--holdout must be between 0 and 1, got {self.holdout}")
        if self.cross < 0:
            raise LearnUsageError(f"--cross must be 0 or more, got {self.cross}")


def _finetune(feats: Path, out: Path, base: Optional[str], cfg: RetrainConfig, log: Callable[[str], None]) -> dict[str, Any]:
    from .finetune import FinetuneConfig, train

    ft = FinetuneConfig(data=str(feats), out=str(out), base=base, device=cfg.device, epochs=cfg.epochs, batch=cfg.batch,
                        lr=cfg.lr, seed=cfg.seed, workers=cfg.workers, threads=cfg.threads, distill=cfg.distill, heads=cfg.heads,
                        progress=sys.stderr.isatty())
    if cfg.launcher == "inline":
        return train(ft, log)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(cfg.nproc), "--standalone", "-m", "agent.learn.finetune",
           "--data", str(feats), "--out", str(out), "--device", cfg.device, "--epochs", str(cfg.epochs), "--batch", str(cfg.batch),
           "--lr", str(cfg.lr), "--distill", str(cfg.distill), "--seed", str(cfg.seed), "--workers", str(cfg.workers), "--threads", str(cfg.threads), "--heads", cfg.heads, "--no-progress"]
    if base:
        cmd += ["--base", base]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=str(Path(__file__).resolve().parents[2]))
    if p.returncode != 0:
        raise LearnError(f"distributed finetune failed (exit {p.returncode}): {p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ''}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def _data_config(cfg: RetrainConfig, fold: int = 0) -> Any:
    from .data import DataConfig

    return DataConfig(n_replay_ground=cfg.replay_ground, n_replay_plan=cfg.replay_plan, replay_seed=11 + cfg.seed,
                      log_weight=cfg.log_weight, holdout=cfg.holdout, lexicon_per_word=cfg.lexicon,
                      lexicon_per_frame=cfg.frames, fold=fold)


def _base_meta(base: Optional[str]) -> tuple[Optional[int], list[str]]:
    """The base checkpoint's encoder depth and vocabulary (None, [] without a base)."""
    from agent.grounder.model import NetConfig

    if not base:
        return None, []
    meta = json.loads((Path(base) / "config.json").read_text())
    return NetConfig(**meta["net"]).encoder_layers, meta.get("vocab", [])


def train_from_logs(logs: list[str], out: str, base: Optional[str], cfg: RetrainConfig,
                    log: Callable[[str], None] = print, since: Optional[float] = None) -> dict[str, Any]:
    """Hindsight data from ``logs`` -> feature files in ``out`` -> finetuned checkpoint in ``out``.

    Returns {"train": finetune result, "summary": data summary, "heldout": path of the held-out feature file,
    "records": the episodes read, "replay": the encoded replay (to share with :func:`cross_check`)}."""
    from .data import FeatureSet, build, held_out, load_records, replay_examples, write_examples
    from .plan_args import PlanArgs

    t0 = time.time()
    records = load_records(logs, since=since)
    if not records:
        raise LearnError(f"no ended episodes in {', '.join(logs)}" + (" since the active checkpoint" if since else "") + "; nothing to learn")
    n_layers, vocab = _base_meta(base)
    dcfg = _data_config(cfg)
    replay = replay_examples(dcfg)
    replay_feats = FeatureSet.encode(replay, [1] * len(replay), {}, n_layers=n_layers, log=lambda s: None)
    train_set, held, summary = build(records, dcfg, n_layers=n_layers, log=lambda s: None, vocab=vocab, replay_feats=replay_feats)
    n_log = summary["n_log_examples"]
    if n_log == 0:
        raise LearnError(f"the {len(records)} episodes gave no hindsight examples (no grounded corrections with a revealed label)")
    outp = Path(out)
    outp.mkdir(parents=True, exist_ok=True)
    feats = outp / "features.pt"
    train_set.save(feats)
    held.save(outp / "heldout.pt")
    write_examples(train_set.examples[:n_log], outp / "log_examples.jsonl")
    write_examples(train_set.examples[n_log:n_log + summary["n_lexicon"]], outp / "lexicon_examples.jsonl")
    write_examples(held.examples, outp / "heldout_examples.jsonl")
    log(f"data: {n_log} hindsight examples ({summary['hindsight_train']}) from {len(summary['episodes_train'])} episodes, "
        f"the user's own words {summary['user_words']} in {summary['n_lexicon']} generated sentences, "
        f"{len(held)} held out from {len(summary['episodes_heldout'])}; replay {summary['n_replay']}; encoded in {time.time() - t0:.0f} s")
    res = _finetune(feats, outp, base, cfg, log)
    log(f"finetuned: {res['steps']} steps, {res['examples_per_s']} examples/s on {res['device']} (world {res['world_size']})")
    # the arguments that worked, by what the policy sees (agent.learn.plan_args): the base's evidence plus the new
    held = [r for r in records if held_out(r["id"], cfg.holdout)]
    args = PlanArgs.learn([r for r in records if not held_out(r["id"], cfg.holdout)], PlanArgs.load(base) if base else None)
    args.save(outp)
    summary["plan_args"] = args.summary()
    log(f"plan arguments: {len(args.rules)} rules from {summary['plan_args']['evidence']} logged arguments"
        + "".join(f"\n  {w}" for w in summary["plan_args"]["rules"]))
    return {"train": res, "summary": summary, "heldout": str(outp / "heldout.pt"), "heldout_records": held,
            "records": records, "replay": replay_feats, "seconds": round(time.time() - t0, 1)}


def cross_check(records: list[dict[str, Any]], base: str, cfg: RetrainConfig, root: Path, replay_feats: Any,
                log: Callable[[str], None] = print) -> dict[str, Any]:
    """More held-out evidence than one slice gives: for each other held-out slice of the episodes (folds 1 ..
    ``cfg.cross``, :func:`agent.learn.data.held_out`), the same recipe finetunes ``base`` on every episode but that
    slice's, and the slice's hindsight examples are read by that model and by ``base``. With 40 episodes the
    candidate's own slice holds about ten utterances; pooled over five slices every logged utterance is read by a
    model that never saw its episode. The fold models are scratch: written under ``root``, read, then removed.

    Returns {"folds": per-fold counts, "active_ok": [...], "candidate_ok": [...]} (per held-out example)."""
    import shutil

    from .data import build, n_folds
    from .finetune import load_net
    from .gate import exact_correct

    n_layers, vocab = _base_meta(base)
    a_net, _ = load_net(base)
    folds: list[dict[str, Any]] = []
    act: list[bool] = []
    cand: list[bool] = []
    for k in range(1, min(n_folds(cfg.holdout), cfg.cross + 1)):
        t0 = time.time()
        train_set, held, summary = build(records, _data_config(cfg, fold=k), n_layers=n_layers, log=lambda s: None, vocab=vocab,
                                         replay_feats=replay_feats)
        if len(held) == 0 or summary["n_log_examples"] == 0:
            folds.append({"fold": k, "n": len(held), "skipped": "no held-out utterances" if len(held) == 0 else "nothing to train on"})
            continue
        d = root / f"fold{k}"
        d.mkdir(parents=True, exist_ok=False)
        try:
            train_set.save(d / "features.pt")
            _finetune(d / "features.pt", d, base, cfg, lambda s: None)
            c_net, _ = load_net(str(d))
            a_ok, c_ok = exact_correct(a_net, held), exact_correct(c_net, held)
        finally:
            shutil.rmtree(d)  # made just above
        act += a_ok
        cand += c_ok
        folds.append({"fold": k, "n": len(held), "episodes": len(summary["episodes_heldout"]), "active": sum(a_ok),
                      "candidate": sum(c_ok), "user_words": summary["user_words"], "seconds": round(time.time() - t0, 1)})
        log(f"cross-check fold {k}: {len(held)} held-out utterances, active {sum(a_ok)} right, retrained without them {sum(c_ok)} "
            f"({time.time() - t0:.0f} s)")
    return {"folds": folds, "active_ok": act, "candidate_ok": cand}


def regression_suite(reg_root: Path, gcfg: Any, n_layers: Optional[int]) -> Any:
    """The fixed generated part of the regression suite, encoded once and cached in the registry folder."""
    from .data import FeatureSet
    from .gate import safety_and_generated

    path = reg_root / f"regression-{gcfg.seed}-{gcfg.n_safety}-{gcfg.n_generated}-{n_layers}.pt"
    if path.exists():
        return FeatureSet.load(path)
    ex = safety_and_generated(gcfg)
    fs = FeatureSet.encode(ex, [1] * len(ex), {"regression": asdict(gcfg)}, n_layers=n_layers, log=lambda s: None)
    reg_root.mkdir(parents=True, exist_ok=True)
    fs.save(path)
    return fs


def retrain_once(cfg: RetrainConfig, log: Callable[[str], None] = print) -> dict[str, Any]:
    """One round: data, finetune, gate, promote or reject. Returns a summary (also written to the candidate folder)."""
    from agent.grounder.model import NetConfig

    from .data import FeatureSet
    from .gate import GateConfig, judge
    from .plan_args import PlanArgs, compare
    from .registry import Registry

    t0 = time.time()
    reg = Registry(cfg.registry)
    active = reg.active()
    base = str(reg.active_checkpoint())
    since = None if cfg.all_episodes else reg.active_since()
    name = reg.next_name()
    out = reg.root / name
    log(f"retrain {name}: base {active} ({base})")
    res = train_from_logs(cfg.logs, str(out), base, cfg, log, since=since)
    cross = cross_check(res["records"], base, cfg, out / "cross", res["replay"], log) if cfg.cross > 0 else None
    gcfg = GateConfig(min_gain=cfg.min_gain, max_flip=cfg.max_flip, dev=cfg.dev)
    n_layers = NetConfig(**json.loads((Path(base) / "config.json").read_text())["net"]).encoder_layers
    regression = regression_suite(reg.root, gcfg, n_layers)
    args_check = compare(PlanArgs.load(base), PlanArgs.load(out), res["heldout_records"])
    report = judge(base, str(out), FeatureSet.load(res["heldout"]), regression, gcfg, log, plan_args=args_check, cross=cross)
    reg.add(name, out, {"base": active, "episodes": res["summary"]["episodes_train"], "gate": report.to_dict()})
    if report.accepted:
        reg.promote(name, note=f"gate: held-out {report.heldout_active} -> {report.heldout_candidate}, flips {report.flip_rate}")
        log(f"promoted {name}; undo with: robocorrect policy rollback")
    else:
        reg.reject(name, "; ".join(report.reasons))
        log(f"kept {active}; {name} stays registered but inactive")
    summary = {"name": name, "promoted": report.accepted, "active": reg.active(), "gate": report.to_dict(),
               "train": {k: v for k, v in res["train"].items() if k != "train"}, "hindsight": res["summary"]["hindsight_train"],
               "user_words": res["summary"].get("user_words", {}), "n_lexicon": res["summary"].get("n_lexicon", 0),
               "plan_args": res["summary"].get("plan_args", {}),
               "seconds": round(time.time() - t0, 1)}
    (out / "retrain.json").write_text(json.dumps(summary, indent=1))
    return summary


def count_ended(logs: list[str]) -> int:
    from memory.episodes import EpisodeLog

    n = 0
    for root in logs:
        if (Path(root) / "episodes.db").exists():
            with EpisodeLog(root, repair=False) as lg:
                n += sum(1 for s in lg.list() if s["status"] in ("success", "failure"))
    return n


def watch(cfg: RetrainConfig, every: int, poll_s: float = 30.0, max_rounds: Optional[int] = None,
          log: Callable[[str], None] = print) -> int:
    """Run a round after every ``every`` newly ended episodes. Each round runs in a child process at low
    priority (``nice`` 10), so a teaching session in another process is never blocked; returns rounds run."""
    seen = count_ended(cfg.logs)
    log(f"watching {', '.join(cfg.logs)}: {seen} ended episodes now; retraining after every {every} new ones")
    rounds = 0
    while max_rounds is None or rounds < max_rounds:
        n = count_ended(cfg.logs)
        if n - seen >= every:
            argv = [sys.executable, "-m", "agent.cli", "retrain", *sum((["--log", p] for p in cfg.logs), []),
                    "--device", cfg.device, "--epochs", str(cfg.epochs), "--replay-ground", str(cfg.replay_ground),
                    "--replay-plan", str(cfg.replay_plan), "--lexicon", str(cfg.lexicon), "--frames", str(cfg.frames), "--heads", cfg.heads, "--lr", str(cfg.lr),
                    "--cross", str(cfg.cross)]
            if cfg.registry:
                argv += ["--registry", cfg.registry]
            log(f"{n - seen} new episodes: retraining")
            p = subprocess.run(argv, preexec_fn=lambda: os.nice(10), cwd=str(Path(__file__).resolve().parents[2]))
            log(f"round finished (exit {p.returncode})")
            seen = n
            rounds += 1
        else:
            time.sleep(poll_s)
    return rounds


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--log", action="append", dest="logs", metavar="DIR", default=[], help="episode log folder (repeatable)")
    p.add_argument("--registry", metavar="DIR", help="policy registry folder (default $ROBOCORRECT_HOME/policies)")
    p.add_argument("--all", action="store_true", dest="all_episodes", help="use every logged episode, not only those since the active checkpoint")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (one-cycle)")
    p.add_argument("--replay-ground", type=int, default=3000, help="generated grounding examples mixed in (replay)")
    p.add_argument("--replay-plan", type=int, default=600, help="generated task-to-plan examples mixed in (replay)")
    p.add_argument("--log-weight", type=int, default=8, help="times each hindsight example is seen per epoch")
    p.add_argument("--lexicon", type=int, default=300,
                   help="generated sentences per direction word of the user's own found in the logs (0: off; agent.learn.lexicon)")
    p.add_argument("--frames", type=int, default=60,
                   help="generated sentences per logged phrasing that holds one of the user's words, said with every direction (0: off)")
    p.add_argument("--heads", choices=("args", "all"), default="args",
                   help="args: finetune only the argument heads (shared layers, level and plan heads kept); all: every weight")
    p.add_argument("--distill", type=float, default=1.0, help="weight of keeping the base checkpoint's answers on replay examples")
    p.add_argument("--holdout", type=float, default=0.2, help="fraction of episodes held out for the gate")
    p.add_argument("--cross", type=int, default=4,
                   help="other held-out slices the gate also reads, each with a model retrained without it (0: the candidate's own slice only)")
    p.add_argument("--workers", type=int, default=0, help="DataLoader workers")
    p.add_argument("--launcher", choices=("inline", "torchrun"), default="inline", help="torchrun: --nproc processes (DDP)")
    p.add_argument("--nproc", type=int, default=2)
    p.add_argument("--max-flip", type=float, default=0.01, help="largest fraction of previously right regression cases a candidate may flip")
    p.add_argument("--min-gain", type=float, default=0.0, help="accuracy a candidate must gain on held-out new utterances")
    p.add_argument("--dev", help="dev set checked by the gate (default: ../shared/eval/grounding_dev.jsonl when present)")
    p.add_argument("--watch", action="store_true", help="keep running; retrain after every --every new episodes")
    p.add_argument("--every", type=int, default=20)
    p.add_argument("--poll", type=float, default=30.0, help="seconds between looks at the logs in --watch mode")
    p.add_argument("--json", action="store_true", help="print the round's summary as one JSON object on the last line")


def config_from_args(args: argparse.Namespace) -> RetrainConfig:
    return RetrainConfig(logs=args.logs, registry=args.registry, all_episodes=args.all_episodes, device=args.device, epochs=args.epochs,
                         batch=args.batch, lr=args.lr, replay_ground=args.replay_ground, replay_plan=args.replay_plan,
                         log_weight=args.log_weight, lexicon=args.lexicon, frames=args.frames, heads=args.heads, distill=args.distill, holdout=args.holdout, cross=args.cross, workers=args.workers, launcher=args.launcher,
                         nproc=args.nproc, max_flip=args.max_flip, min_gain=args.min_gain, dev=args.dev)


def run(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    if args.watch:
        if args.every < 1:
            raise LearnUsageError(f"--every must be at least 1, got {args.every}")
        watch(cfg, args.every, args.poll)
        return 0
    summary = retrain_once(cfg, log=lambda s: print(s, flush=True))
    if args.json:
        print(json.dumps(summary))
    return 0
