"""``robocorrect train``: generate the corpus and train the embedded grounding policy.

    robocorrect train --seed 0 --out agent/checkpoints/embedded        # the shipped checkpoint
    robocorrect train --epochs 1 --n-ground 300 --n-plan 100 --out /tmp/ck   # a tiny smoke run
    robocorrect train --lora --out /tmp/smol-lora [--episodes LOG...] [--steps 300]   # LoRA adapter for --policy hf
    robocorrect train --write-cases /tmp/heldout.jsonl --n 500 --seed 7 --split test
        # writes held-out grounding cases (contract format; other seed, held-out phrase templates)
        # instead of training; score them with robocorrect ground + shared/eval/score_grounding.py

Never reads ``shared/eval``: the corpus comes only from :mod:`agent.grounder.corpus`, which skips any
utterance whose digest is in ``agent/grounder/data/blocked.json`` (evaluation utterances kept out).
"""
from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_OUT = str(Path(__file__).resolve().parent / "checkpoints" / "embedded")


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=0, help="corpus and initialisation seed (default 0)")
    p.add_argument("--out", default=DEFAULT_OUT, help=f"checkpoint folder (default {DEFAULT_OUT})")
    p.add_argument("--n-ground", type=int, default=None, help="grounding examples in the corpus")
    p.add_argument("--n-plan", type=int, default=None, help="task-to-plan examples in the corpus")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--arch", choices=("top", "mlp"), default=None,
                   help="top: fine-tune MiniLM's last layer; mlp: a token-wise MLP over frozen states (default: the shipped choice)")
    p.add_argument("--token-dropout", type=float, default=None, help="fraction of token states dropped from pooling in training")
    p.add_argument("--label-smoothing", type=float, default=None, help="label smoothing of the class heads")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1: fastest on a shared 2-core CPU)")
    p.add_argument("--write-cases", metavar="FILE", help="write generated grounding cases (JSON Lines) and exit")
    p.add_argument("--write-plan-cases", metavar="FILE", help="write generated task-to-plan cases (JSON Lines) and exit")
    p.add_argument("--n", type=int, default=500, help="number of cases for --write-cases / --write-plan-cases")
    p.add_argument("--split", choices=("train", "test"), default="test", help="phrase templates for generated cases (default: held-out)")
    # finetuning on logged episodes (agent/learn): robocorrect train --episodes LOG... [--base CK] --out DIR
    p.add_argument("--episodes", nargs="+", metavar="LOG", help="finetune on these episode logs (hindsight labels + replay) instead of the corpus")
    p.add_argument("--base", metavar="CHECKPOINT", help="with --episodes: checkpoint to start from (default: the shipped one)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="with --episodes or --lora: training device")
    from agent.llm import lora_cli  # robocorrect train --lora: a LoRA adapter for --policy hf (agent/llm/lora.py)

    lora_cli.configure(p)


def write_cases(path: str, n: int, seed: int, split: str, plan: bool = False) -> int:
    import json
    import random

    from agent.grounder.corpus import ground_example, plan_example, to_case, to_plan_case

    rng = random.Random(f"cases-{seed}-{split}")
    with open(path, "w") as f:
        for i in range(n):
            if plan:
                f.write(json.dumps(to_plan_case(plan_example(rng, split), f"p{i:04d}")) + "\n")
            else:
                f.write(json.dumps(to_case(ground_example(rng, split), f"g{i:04d}")) + "\n")
    print(f"wrote {n} {'task-to-plan' if plan else 'grounding'} cases to {path} (seed {seed}, {split} templates)")
    return 0


def run_episodes(args: argparse.Namespace) -> int:
    """``--episodes``: finetune ``--base`` on hindsight examples of the logs into ``--out`` (no gate, no registry)."""
    from hardware.errors import UsageError

    from agent.learn.retrain import RetrainConfig, train_from_logs

    if args.out == DEFAULT_OUT:
        raise UsageError("--episodes needs its own --out DIR (the shipped checkpoint is never overwritten)")
    cfg = RetrainConfig(logs=list(args.episodes), device=args.device, epochs=args.epochs or 3, seed=args.seed, threads=args.threads)
    res = train_from_logs(cfg.logs, args.out, args.base or str(Path(DEFAULT_OUT)), cfg, log=lambda s: print(s, flush=True))
    print(f"saved {args.out} ({res['seconds']} s)")
    return 0


def run(args: argparse.Namespace) -> int:
    if getattr(args, "lora", False):
        from agent.llm import lora_cli

        return lora_cli.run(args, DEFAULT_OUT)
    if getattr(args, "episodes", None):
        return run_episodes(args)
    if args.write_cases:
        return write_cases(args.write_cases, args.n, args.seed, args.split)
    if args.write_plan_cases:
        return write_cases(args.write_plan_cases, args.n, args.seed, args.split, plan=True)
    from agent.grounder.trainer import TrainConfig, train

    cfg = TrainConfig(seed=args.seed, threads=args.threads)
    if args.n_ground is not None:
        cfg.n_ground = args.n_ground
    if args.n_plan is not None:
        cfg.n_plan = args.n_plan
    if args.epochs is not None:
        cfg.epochs = args.epochs
    if args.token_dropout is not None:
        cfg.token_dropout = args.token_dropout
    if args.label_smoothing is not None:
        cfg.label_smoothing = args.label_smoothing
    if args.arch is not None:
        cfg.top = args.arch == "top"
    if cfg.n_ground + cfg.n_plan < 1000:
        cfg.n_val_ground, cfg.n_val_plan = 100, 40
    meta = train(cfg, args.out, log=lambda s: print(s, flush=True))
    m = meta["heldout_label_metrics"]
    print(f"held-out (test templates, seed {cfg.seed + 1000}): exact grounding intent {m['exact_ground']:.3f}, exact plan {m['exact_plan']:.3f}")
    return 0
