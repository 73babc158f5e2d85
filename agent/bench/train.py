"""``robocorrect bench train``: finetuning throughput of the embedded policy, data loading included.

    robocorrect bench train --json                              # CPU here: 2,048 generated examples, batch 256
    robocorrect bench train --device cuda --batch 1024 --workers 8 --steps 200 --json
    robocorrect bench train --features feats.pt --device cuda --json   # a machine without the MiniLM package

Encodes generated corpus examples once (frozen MiniLM; timed apart as ``encode_s``), then runs the training
script (:mod:`agent.learn.finetune`: DataLoader workers collating padded batches, bf16 autocast on CUDA)
from the shipped checkpoint for ``--steps`` optimizer steps after ``--warmup`` untimed ones. The last line
with ``--json`` is one JSON object: examples_per_s, device, batch_size, steps, workers, encode_s, ...
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n", type=int, default=2048, help="generated examples to encode (default 2048)")
    p.add_argument("--features", metavar="FILE", help="use this feature file (agent.learn.data) instead of encoding")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--steps", type=int, default=40, help="timed optimizer steps (default 40)")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--workers", type=int, default=0, help="DataLoader workers (default 0; use 4-8 on a GPU machine)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object on the last line")


def run(args: argparse.Namespace) -> int:
    from hardware.errors import UsageError

    if args.steps < 1 or args.batch < 1 or args.n < 1:
        raise UsageError("--steps, --batch and --n must be at least 1")
    import torch

    from agent.learn.data import FeatureSet
    from agent.learn.finetune import FinetuneConfig, train
    from agent.learn.registry import shipped_checkpoint

    torch.set_num_threads(max(1, args.threads))
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        encode_s = 0.0
        feats = args.features
        if not feats:
            from agent.grounder.corpus import generate

            t0 = time.perf_counter()
            ex = generate(int(args.n * 0.8), args.n - int(args.n * 0.8), 21, "train")
            fs = FeatureSet.encode(ex, [1] * len(ex), {"bench": True}, log=lambda s: None)
            encode_s = time.perf_counter() - t0
            feats = str(Path(tmp) / "feats.pt")
            fs.save(feats)
        n = len(FeatureSet.load(feats))
        epochs = max(1, -(-(args.steps + args.warmup) * args.batch // n))
        base = str(shipped_checkpoint())
        common = dict(data=feats, base=base, device=args.device, batch=args.batch, workers=args.workers, threads=args.threads,
                      progress=False, tensorboard=False)
        warm = train(FinetuneConfig(out=str(Path(tmp) / "warm"), epochs=epochs, max_steps=args.warmup, **common), log=lambda s: None)
        res = train(FinetuneConfig(out=str(Path(tmp) / "run"), epochs=epochs, max_steps=args.steps + args.warmup, **common), log=lambda s: None)
    # the timed run includes its warm-up steps; subtract the separately measured warm-up run
    steps = res["steps"] - warm["steps"]
    seconds = max(1e-9, res["seconds"] - warm["seconds"])
    out = {"examples_per_s": round(steps * args.batch / seconds, 1), "device": res["device"], "batch_size": args.batch,
           "steps": steps, "workers": args.workers, "examples": n, "encode_s": round(encode_s, 1),
           "encode_examples_per_s": round(n / encode_s, 1) if encode_s else None, "train_s": round(seconds, 3),
           "gpu": torch.cuda.get_device_name(0) if res["device"] == "cuda" else None, "bf16_autocast": res["device"] == "cuda",
           "torch": torch.__version__}
    print(f"finetune: {out['examples_per_s']} examples/s on {out['device']} (batch {args.batch}, {steps} steps, "
          f"{args.workers} loader workers); encoding {n} examples took {out['encode_s']} s")
    if args.json:
        print(json.dumps(out))
    return 0
