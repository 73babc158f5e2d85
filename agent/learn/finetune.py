"""Finetune the embedded policy's heads on a feature file (:mod:`agent.learn.data`); one readable script.

    python -m agent.learn.finetune --data feats.pt --base agent/checkpoints/embedded --out /tmp/cand
    torchrun --nproc_per_node 2 -m agent.learn.finetune --data feats.pt --out /tmp/cand --device cpu   # 2 processes (gloo)
    accelerate launch -m agent.learn.finetune --data feats.pt --out /tmp/cand                          # N GPUs (nccl)

Top to bottom: :class:`FinetuneConfig`; process-group setup (``WORLD_SIZE`` > 1 from torchrun / accelerate:
gloo on CPU, nccl on CUDA; each rank reads its shard through a ``DistributedSampler`` and gradients are
averaged by DDP); a ``DataLoader`` whose workers collate padded batches (pinned memory, prefetching) so the
device never waits; the loop (bf16 autocast on CUDA, AdamW, one-cycle LR, gradient clipping, on replay examples a
KL term keeping the base checkpoint's answers (``--distill``), a tqdm bar,
TensorBoard scalars ``loss/train`` and ``lr``); rank 0 saves the checkpoint: ``heads.pt`` + ``config.json`` (what
:class:`agent.grounder.policy.EmbeddedPolicy` loads) and ``model.safetensors`` (same weights, the config in its
metadata), with ``train.json`` saying the config, the data file (sha256) and the episodes it came from.

Imports neither pybullet nor faiss (nor the MiniLM encoder: the feature file holds the encoded tokens).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Callable, Optional

import torch
from torch import nn

from agent.grounder.labels import CLASS_HEADS, POINTER_SLOTS

from .data import IGNORE, FeatureSet


@dataclass
class FinetuneConfig:
    """One finetuning run."""

    data: str = ""
    """feature file written by :mod:`agent.learn.data` (``FeatureSet.save``)"""
    out: str = ""
    """checkpoint folder to write"""
    base: Optional[str] = None
    """checkpoint folder to start from (None: a fresh net with the default config)"""
    device: str = "auto"
    """auto (cuda when available), cpu or cuda"""
    epochs: int = 3
    batch: int = 64
    lr: float = 3e-4
    weight_decay: float = 0.01
    seed: int = 0
    workers: int = 0
    """DataLoader worker processes (0: collate in the training process; 4+ keeps a GPU busy)"""
    distill: float = 1.0
    """weight of keeping the base checkpoint's answers on replay examples (KL to its softmax; 0: off)"""
    max_steps: int = 0
    """stop after this many optimizer steps (0: run every epoch)"""
    threads: int = 1
    """torch CPU threads per process"""
    heads: str = "args"
    """what the finetune may change: "args" (the argument heads: which arguments change, offsets, yaw, speed, force,
    height, their attention queries and classifiers; the shared layers and the level / history / plan heads stay
    as the base checkpoint has them) or "all" (every weight)"""
    tensorboard: bool = True
    """write TensorBoard logs under OUT/tb"""
    progress: bool = True
    """show a tqdm progress bar (rank 0)"""

    def __post_init__(self) -> None:
        from .errors import LearnUsageError

        if self.device not in ("auto", "cpu", "cuda"):
            raise LearnUsageError(f"--device must be auto, cpu or cuda, not {self.device!r}")
        if self.device == "cuda" and not torch.cuda.is_available():
            raise LearnUsageError("--device cuda, but torch sees no CUDA device; use --device cpu or auto")
        if self.heads not in ("args", "all"):
            raise LearnUsageError(f"--heads must be args or all, not {self.heads!r}")
        if self.epochs < 1 or self.batch < 1:
            raise LearnUsageError(f"--epochs and --batch must be at least 1 (got {self.epochs}, {self.batch})")


def resolve_device(name: str) -> torch.device:
    return torch.device("cuda" if name == "cuda" or (name == "auto" and torch.cuda.is_available()) else "cpu")


def losses(out: dict[str, torch.Tensor], b: dict[str, Any]) -> torch.Tensor:
    """Summed cross-entropy of every class head and pointer slot (ignoring examples without that label) and
    the set head's BCE; the same objective as :func:`agent.grounder.trainer._losses`, vectorised."""
    total = out["level"].new_zeros((), dtype=torch.float32)
    for k in list(CLASS_HEADS) + list(POINTER_SLOTS):
        y = b["y"][k]
        if b["present"][k]:
            total = total + nn.functional.cross_entropy(out[k].float(), y, ignore_index=IGNORE)
        else:  # zero, but keeps every parameter in the graph (DDP expects a gradient for each)
            total = total + 0.0 * out[k].float().sum()
    if not b["present"]["set"]:
        total = total + 0.0 * out["set"].float().clamp(-1e3, 1e3).sum()
    else:
        rows = b["has_set"]
        m = b["obj_mask"][rows]
        total = total + nn.functional.binary_cross_entropy_with_logits(out["set"][rows].float()[m], b["set"][rows][m])
    return total


def distill_loss(out: dict[str, torch.Tensor], teacher: dict[str, torch.Tensor], rows: torch.Tensor) -> torch.Tensor:
    """KL(teacher || student) over the class heads and pointer slots, on the replay rows only: the finetune may
    change answers where the logs teach something, and keeps the base checkpoint's answers elsewhere."""
    total = out["level"].new_zeros((), dtype=torch.float32)
    if not bool(rows.any()):
        return total
    for k in list(CLASS_HEADS) + list(POINTER_SLOTS):
        s = nn.functional.log_softmax(out[k][rows].float(), -1)
        t = nn.functional.softmax(teacher[k][rows].float(), -1)
        total = total + nn.functional.kl_div(s, t, reduction="batchmean")
    return total


class Collate:
    """Picklable collate for DataLoader workers: example indices -> tensors (and which heads have labels)."""

    def __init__(self, data: FeatureSet) -> None:
        self.data = data

    def __call__(self, idx: list[int]) -> dict[str, Any]:
        b = self.data.collate(idx)
        b["present"] = {k: bool((v != IGNORE).any()) for k, v in b["y"].items()}
        b["present"]["set"] = bool(b["has_set"].any())
        return b


def to_device(b: dict[str, Any], device: torch.device) -> dict[str, Any]:
    nb = device.type == "cuda"
    out = {k: (v.to(device, non_blocking=nb) if isinstance(v, torch.Tensor) else v) for k, v in b.items()}
    out["y"] = {k: v.to(device, non_blocking=nb) for k, v in b["y"].items()}
    out["tok"] = out["tok"].float()
    return out


TRAINED_HEADS = ("active", "x", "y", "z", "yaw", "speed", "force", "height")  # what a correction's words change


class Frozen:
    """Keeps every weight outside the argument heads (:data:`TRAINED_HEADS`) at its base value: their gradients are
    zeroed before the optimizer step and their values restored after it (AdamW's weight decay included)."""

    def __init__(self, net: nn.Module) -> None:
        names = list(getattr(net, "class_names", []))
        rows = torch.tensor([k in TRAINED_HEADS for k in names])
        self.masks: dict[str, torch.Tensor] = {}  # parameter name -> True where the value may change
        for n, p in net.named_parameters():
            m = torch.zeros_like(p, dtype=torch.bool)
            if n == "queries":
                m[: len(names)] = rows[:, None]
            elif n.startswith("cls_fused."):
                m[:] = rows.view(-1, *([1] * (p.dim() - 1)))
            elif n.startswith("cls.") and n.split(".")[1] in TRAINED_HEADS:
                m[:] = True
            self.masks[n] = m
        self.params = dict(net.named_parameters())
        self.base = {n: p.detach().clone() for n, p in self.params.items()}

    def before_step(self) -> None:
        for n, p in self.params.items():
            if p.grad is not None:
                p.grad.masked_fill_(~self.masks[n].to(p.grad.device), 0.0)

    @torch.no_grad()
    def after_step(self) -> None:
        for n, p in self.params.items():
            m = self.masks[n].to(p.device)
            p.copy_(torch.where(m, p, self.base[n].to(p.device)))


def load_net(base: Optional[str]) -> tuple[nn.Module, dict[str, Any]]:
    from agent.grounder.model import GrounderNet, NetConfig, load_checkpoint

    if base:
        try:
            return load_checkpoint(base)
        except FileNotFoundError as e:
            from .errors import LearnError

            raise LearnError(str(e)) from None
    return GrounderNet(NetConfig(fused=True)), {}


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save(net: nn.Module, cfg: FinetuneConfig, base_meta: dict[str, Any], data: FeatureSet, history: list[dict[str, float]]) -> dict[str, Any]:
    """Write the checkpoint folder (module docstring); returns its ``train.json`` dict."""
    from safetensors.torch import save_file

    from agent.grounder.model import save_checkpoint

    out = Path(cfg.out)
    meta = {k: v for k, v in base_meta.items() if k not in ("net",)}
    record = {"command": f"python -m agent.learn.finetune --data {cfg.data} --out {cfg.out}" + (f" --base {cfg.base}" if cfg.base else ""),
              "finetune": asdict(cfg), "data_file": cfg.data, "data_sha256": sha256(cfg.data), "data": data.meta,
              "base": cfg.base, "base_command": base_meta.get("command"), "history": history, "saved": time.time()}
    meta["finetune"] = record
    # words the finetune taught join the policy's vocabulary (its unknown-word check reads it): the user's own words
    # and words of several labelled utterances, not the ASR slips of generated sentences (agent.learn.data)
    from .data import taught_vocabulary

    taught = taught_vocabulary(data.examples, (data.meta or {}).get("user_words", {}))
    meta["vocab"] = sorted(set(base_meta.get("vocab", ())) | taught)
    # a word the logs taught in corrections is no longer one known only from other talk (agent.grounder.known_words)
    meta["chatter"] = sorted(set(base_meta.get("chatter", ())) - taught)
    save_checkpoint(net, str(out), meta)
    sd = {k: v.detach().to(torch.float16).contiguous() for k, v in net.state_dict().items()}
    save_file(sd, str(out / "model.safetensors"), metadata={"config": json.dumps({"net": asdict(net.cfg)}), "format": "robocorrect-grounder"})
    (out / "train.json").write_text(json.dumps(record, indent=1))
    return record


def train(cfg: FinetuneConfig, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run one finetuning (distributed when ``WORLD_SIZE`` > 1); returns ``train.json`` plus throughput."""
    import torch.distributed as dist
    from torch.utils.data import DataLoader, DistributedSampler, RandomSampler

    torch.set_num_threads(max(1, cfg.threads))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = resolve_device(cfg.device)
    if world > 1:
        local = int(os.environ.get("LOCAL_RANK", "0"))
        if device.type == "cuda":
            torch.cuda.set_device(local)
            device = torch.device("cuda", local)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    torch.manual_seed(cfg.seed)
    data = FeatureSet.load(cfg.data)
    if len(data) == 0:
        from .errors import LearnError

        raise LearnError(f"{cfg.data} holds no examples; log some teaching episodes first")
    order = data.epoch_indices()
    g = torch.Generator().manual_seed(cfg.seed)
    sampler = DistributedSampler(order, num_replicas=world, rank=rank, shuffle=True, seed=cfg.seed) if world > 1 else RandomSampler(order, generator=g)
    loader = DataLoader(order, batch_size=cfg.batch, sampler=sampler, collate_fn=Collate(data), num_workers=cfg.workers,
                        pin_memory=device.type == "cuda", persistent_workers=cfg.workers > 0,
                        prefetch_factor=4 if cfg.workers > 0 else None, drop_last=False)
    net, base_meta = load_net(cfg.base)
    net.to(device).train()
    model: nn.Module = nn.parallel.DistributedDataParallel(net, device_ids=[device.index] if device.type == "cuda" else None) if world > 1 else net
    teacher = None
    if cfg.base and cfg.distill > 0:
        import copy

        teacher = copy.deepcopy(net).eval()
        for p in teacher.parameters():
            p.requires_grad_(False)
    frozen = Frozen(net) if cfg.heads == "args" and cfg.base else None
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    total = cfg.epochs * len(loader)
    if cfg.max_steps:
        total = min(total, cfg.max_steps)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=max(1, total), pct_start=0.1)
    writer = None
    if rank == 0 and cfg.tensorboard:
        try:
            from torch.utils.tensorboard import SummaryWriter

            writer = SummaryWriter(str(Path(cfg.out) / "tb"))
        except ImportError:
            log("tensorboard is not installed (pip install 'robocorrect[train]'); no TensorBoard logs")
    bar = None
    if rank == 0 and cfg.progress:
        from tqdm import tqdm

        bar = tqdm(total=total, desc="finetune", unit="step", dynamic_ncols=True)
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else torch.autocast("cpu", enabled=False)
    step, seen, history = 0, 0, []
    t0 = time.perf_counter()
    for ep in range(cfg.epochs):
        if world > 1:
            sampler.set_epoch(ep)
        tot, n = 0.0, 0
        for b in loader:
            b = to_device(b, device)
            with amp:
                out = model(b["tok"], b["mask"], b["mode"], b["hist"], b["obj_vec"], b["obj_feat"], b["obj_mask"])
                loss = losses(out, b)
                if teacher is not None:
                    with torch.no_grad():
                        tout = teacher(b["tok"], b["mask"], b["mode"], b["hist"], b["obj_vec"], b["obj_feat"], b["obj_mask"])
                    loss = loss + cfg.distill * distill_loss(out, tout, b["replay"])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if frozen is not None:
                frozen.before_step()
            nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            if frozen is not None:
                frozen.after_step()
            sched.step()
            step += 1
            seen += b["mask"].shape[0]
            if step % 10 == 0 or step == total:
                lv = float(loss.detach())
                tot, n = tot + lv, n + 1
                if writer is not None:
                    writer.add_scalar("loss/train", lv, step)
                    writer.add_scalar("lr", sched.get_last_lr()[0], step)
            if bar is not None:
                bar.update(1)
            if step >= total:
                break
        history.append({"epoch": ep + 1, "loss": round(tot / max(1, n), 4)})
        if step >= total:
            break
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    if bar is not None:
        bar.close()
    if writer is not None:
        writer.close()
    result: dict[str, Any] = {"steps": step, "examples": seen * world, "seconds": round(seconds, 3),
                              "examples_per_s": round(seen * world / max(seconds, 1e-9), 1), "device": device.type,
                              "world_size": world, "batch_size": cfg.batch}
    if rank == 0:
        net.eval().cpu()
        result["train"] = save(net, cfg, base_meta, data, history)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return result


def config_from_argv(argv: Optional[list[str]] = None) -> FinetuneConfig:
    """The CLI is derived from :class:`FinetuneConfig` (one flag per field, its docstring as help)."""
    p = argparse.ArgumentParser(prog="python -m agent.learn.finetune", description=__doc__.split("\n")[0])
    for f in fields(FinetuneConfig):
        flag = "--" + f.name.replace("_", "-")
        default = f.default
        if f.type in ("bool", bool):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=default)
        else:
            typ = int if isinstance(default, int) else float if isinstance(default, float) else str
            p.add_argument(flag, type=typ, default=default, required=f.name in ("data", "out"))
    return FinetuneConfig(**vars(p.parse_args(argv)))


def main(argv: Optional[list[str]] = None) -> int:
    from hardware.errors import RobocorrectError

    try:
        cfg = config_from_argv(argv)
        res = train(cfg)
    except RobocorrectError as e:
        import sys

        print(f"error: {e}", file=sys.stderr)
        return 2
    if int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps({k: v for k, v in res.items() if k != "train"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
