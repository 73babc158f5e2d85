"""Adapt Whisper's decoder to the corrections a robot hears: a LoRA adapter (:mod:`speech.adapter`) trained on
espeak-ng speech of the grounder's own training phrases; never on the test corpus of ``robocorrect bench speech``.

Training speech: the recogniser's fix-learning cases of :mod:`agent.bench.asr_tune` (``training_cases(N, seed=23)``,
the grounder's training grammar without its typing noise, corrections and plan edits; none is its tuning set of 120,
an utterance of ``../shared/eval``, of the real phrasings or of the held-out speech set) plus the chit-chat, greetings
and praise of the grammar's own pools (train split, never :data:`agent.bench.asr_tune.OFFTOPIC`, the off-topic
sentences the recogniser is measured on), each said twice, so that the decoder keeps writing what it hears when it
is not a correction. The six espeak-ng voices at 140 / 175 / 205 wpm (the test corpus: 130 / 160 / 190), clean and
with sox room noise at 20 and 10 dB, as :func:`agent.bench.asr_tune.build` makes them.

Training: Whisper base's encoder is left as it is; its output for each recording (CTranslate2, int8, the 8 s window
the recogniser uses) is computed once and kept in ``~/.cache/robocorrect/asr-training/adapt-*.npy``. The decoder is
rebuilt in torch from the CTranslate2 file (:class:`Decoder`; with no adapter it writes what CTranslate2 writes) with
LoRA matrices on its self-attention, cross-attention queries and output, and feed-forward layers (the cross-attention
keys and values of the audio are left alone), and trained to write the said phrase (capital, full stop, as Whisper
writes) after the recogniser's own prompt with the case's scene names: cross-entropy on the text tokens, AdamW,
one-cycle learning rate.

    python3 -m agent.bench.asr_adapt                     # writes speech/data/whisper_base_adapter.{npz,json}
    python3 -m agent.bench.asr_adapt --dry-run --n 50 --epochs 0.1

Then ``python3 -m agent.bench.asr_tune --models base+adapter ...`` and ``robocorrect bench speech`` measure it.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("self_attention/linear_0", "self_attention/linear_1", "attention/linear_0", "attention/linear_2",
          "ffn/linear_0", "ffn/linear_1")  # adapted; attention/linear_1 (keys and values of the audio) is not


def chit_chat(avoid: set[str]) -> list[str]:
    """The grammar's chit-chat, greetings, praise and unclear talk of two words or more (train split), none in ``avoid``."""
    from agent.grounder import corpus
    from agent.grounder.phrases import fold

    out: list[str] = []
    for pool in (corpus.OFFTOPIC, corpus.GREETING, corpus.PRAISE, corpus.UNCLEAR_FREE):
        out += [t for t in pool.train if fold(t) not in avoid and len(t.split()) >= 2 and t not in out]
    return out


def adapt_cases(n: int) -> list[dict[str, Any]]:
    """The training cases (module docstring): ``n`` fix-learning cases, then each chit-chat sentence twice, said in
    the scene of a drawn case (ids ``chat-<hash of the sentence>-a`` / ``-b``: a recording's file name is its id, so
    an id never names another sentence). No evaluation utterance of any length (:func:`asr_tune.evaluation_texts`)."""
    from agent.bench.asr_tune import OFFTOPIC, evaluation_texts, training_cases
    from agent.grounder.phrases import fold

    tune = training_cases(120)
    learn = training_cases(n, seed=23, avoid={fold(c["utterance"]) for c in tune})
    chat = chit_chat({fold(t) for t in OFFTOPIC} | {fold(c["utterance"]) for c in tune} | evaluation_texts())
    out = list(learn)
    for t in chat:
        h = hashlib.sha1(t.encode()).hexdigest()[:10]
        rng = random.Random(h)
        out += [learn[rng.randrange(len(learn))] | {"id": f"chat-{h}-{k}", "utterance": t} for k in "ab"]
    return out


def target_text(said: str) -> str:
    """What Whisper would write for a said phrase: a leading space, a capital, a full stop."""
    s = said.strip()
    return " " + s[0].upper() + s[1:] + ("" if s[-1] in ".?!" else ".")


def recording_key(case_id: str, noise: str, said: str) -> str:
    """The file name (without .npy) of a recording's kept encoder output."""
    return hashlib.sha1(f"{case_id}|{noise}|{said}".encode()).hexdigest()[:16]


def encode_all(cases: list[dict[str, Any]], wavs: dict[str, dict[str, Path]], work: Path, log: Callable[[str], None]) -> tuple[list[dict[str, Any]], np.ndarray]:
    """(rows, encoder outputs): one row per recording {id, noise, prompt ids, target ids, frames, offset} and the
    encoder outputs of all rows one after another (float16, frames x 512). Each recording's output is kept in
    ``work/adapt-enc/<recording_key>.npy`` and computed only when missing."""
    from agent.bench.asr_tune import NOISE
    from speech.sources import read_wav
    from speech.vocab import prompt_words
    from speech.whisper import WhisperRecognizer

    keep = work / "adapt-enc"
    keep.mkdir(parents=True, exist_ok=True)
    rec = WhisperRecognizer("base", cpu_threads=2)
    rec.warm_up()
    tok, eot = rec._tok, rec._tok.token_to_id("<|endoftext|>")  # noqa: SLF001 - the recogniser's own tokenizer and prompt
    rows, encs, at, made = [], [], 0, 0
    t0 = time.perf_counter()
    for i, c in enumerate(cases):
        rec.set_vocabulary(prompt_words(c["scene"]))
        prompt = [rec._prev, *tok.encode(" " + rec.prompt.strip(), add_special_tokens=False).ids][-200:] + rec._sot  # noqa: SLF001
        target = tok.encode(target_text(c["utterance"]), add_special_tokens=False).ids + [eot]
        for k in NOISE:
            f = keep / f"{recording_key(c['id'], k, c['utterance'])}.npy"
            if f.is_file():
                e = np.load(f)
            else:
                enc, _dur = rec._encode(read_wav(wavs[c["id"]][k]))  # noqa: SLF001 - the window the recogniser decodes
                e = np.asarray(enc, dtype=np.float32)[0].astype(np.float16)
                np.save(f, e)
                made += 1
            rows.append({"id": c["id"], "noise": k, "prompt": prompt, "target": target, "frames": int(e.shape[0]), "offset": at})
            encs.append(e)
            at += e.shape[0]
        if i % 200 == 0:
            log(f"encoder outputs of {i}/{len(cases)} cases ({made} computed, {time.perf_counter() - t0:.0f} s)")
    return rows, np.concatenate(encs)


def _torch_decoder() -> Any:
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Linear(nn.Module):
        """A frozen linear layer of the CTranslate2 file, plus ``scale * B @ A`` when ``rank`` > 0."""

        def __init__(self, w: np.ndarray, b: np.ndarray, rank: int, scale: float) -> None:
            super().__init__()
            self.register_buffer("w", torch.tensor(np.asarray(w, np.float32)))
            self.register_buffer("b", torch.tensor(np.asarray(b, np.float32)))
            self.rank, self.scale = rank, scale
            if rank:
                self.A = nn.Parameter(torch.randn(rank, self.w.shape[1]) / math.sqrt(self.w.shape[1]))
                self.B = nn.Parameter(torch.zeros(self.w.shape[0], rank))

        def forward(self, x: Any) -> Any:
            y = F.linear(x, self.w, self.b)
            return y + F.linear(F.linear(x, self.A), self.B) * self.scale if self.rank else y

    class Decoder(nn.Module):
        """Whisper's decoder as CTranslate2 stores it (pre-norm layers; self-attention with fused q/k/v,
        cross-attention with fused k/v; GELU; output projection = token embeddings), with LoRA on :data:`LAYERS`."""

        def __init__(self, v: dict[str, np.ndarray], rank: int = 16, scale: float = 2.0) -> None:
            super().__init__()
            self.heads = int(v["decoder/num_heads"])
            self.register_buffer("emb", torch.tensor(np.asarray(v["decoder/embeddings/weight"], np.float32)))
            self.register_buffer("pos", torch.tensor(np.asarray(v["decoder/position_encodings/encodings"], np.float32)))
            self.layers = nn.ModuleList()
            i = 0
            while f"decoder/layer_{i}/ffn/linear_0/weight" in v:
                p = f"decoder/layer_{i}/"
                layer = nn.Module()
                for name in LAYERS + ("attention/linear_1",):
                    layer.add_module(name.replace("/", "__"), Linear(v[p + name + "/weight"], v[p + name + "/bias"],
                                                                     rank if name in LAYERS else 0, scale))
                for n in ("self_attention", "attention", "ffn"):
                    layer.register_buffer(n + "_g", torch.tensor(np.asarray(v[p + n + "/layer_norm/gamma"], np.float32)))
                    layer.register_buffer(n + "_b", torch.tensor(np.asarray(v[p + n + "/layer_norm/beta"], np.float32)))
                self.layers.append(layer)
                i += 1
            self.register_buffer("g", torch.tensor(np.asarray(v["decoder/layer_norm/gamma"], np.float32)))
            self.register_buffer("b", torch.tensor(np.asarray(v["decoder/layer_norm/beta"], np.float32)))

        def _attend(self, q: Any, k: Any, v: Any, mask: Any) -> Any:
            B, T, D = q.shape
            h, d = self.heads, D // self.heads
            q, k, v = (x.view(B, -1, h, d).transpose(1, 2) for x in (q, k, v))
            return F.scaled_dot_product_attention(q, k, v, attn_mask=mask).transpose(1, 2).reshape(B, T, D)

        def forward(self, tokens: Any, audio: Any, audio_mask: Any = None) -> Any:
            """Logits (B, T, vocabulary) for token ids (B, T) over encoder outputs (B, S, 512); ``audio_mask`` (B, S)
            is True on real frames."""
            T = tokens.shape[1]
            x = self.emb[tokens] + self.pos[:T]
            D = x.shape[-1]
            causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
            cross = None if audio_mask is None else audio_mask[:, None, None, :]
            for L in self.layers:
                h = F.layer_norm(x, (D,), L.self_attention_g, L.self_attention_b, 1e-5)
                q, k, v = L.self_attention__linear_0(h).split(D, -1)
                x = x + L.self_attention__linear_1(self._attend(q, k, v, causal))
                h = F.layer_norm(x, (D,), L.attention_g, L.attention_b, 1e-5)
                with torch.no_grad():
                    k, v = L.attention__linear_1(audio).split(D, -1)
                x = x + L.attention__linear_2(self._attend(L.attention__linear_0(h), k, v, cross))
                h = F.layer_norm(x, (D,), L.ffn_g, L.ffn_b, 1e-5)
                x = x + L.ffn__linear_1(F.gelu(L.ffn__linear_0(h)))
            return F.layer_norm(x, (D,), self.g, self.b, 1e-5) @ self.emb.T

        def adapter(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
            """{CTranslate2 variable name: (A, B)} of the trained matrices."""
            out = {}
            for i, L in enumerate(self.layers):
                for name in LAYERS:
                    lin = getattr(L, name.replace("/", "__"))
                    out[f"decoder/layer_{i}/{name}/weight"] = (lin.A.detach().numpy(), lin.B.detach().numpy())
            return out

    return Decoder


def decoder_from(model_bin: str | Path, rank: int, scale: float) -> Any:
    """The torch decoder of a CTranslate2 Whisper file (rank 0: no adapter)."""
    from speech import ct2file

    return _torch_decoder()(ct2file.read(model_bin).variables, rank, scale)


def batch(rows: list[dict[str, Any]], enc: np.ndarray) -> tuple[Any, Any, Any, Any]:
    """(token ids, audio, audio mask, labels) of some rows; labels are -100 except on the said text's tokens."""
    import torch

    S = max(r["frames"] for r in rows)
    T = max(len(r["prompt"]) + len(r["target"]) for r in rows) - 1
    audio = torch.zeros(len(rows), S, enc.shape[1])
    mask = torch.zeros(len(rows), S, dtype=torch.bool)
    tok = torch.zeros(len(rows), T, dtype=torch.long)
    lab = torch.full((len(rows), T), -100, dtype=torch.long)
    for j, r in enumerate(rows):
        audio[j, : r["frames"]] = torch.from_numpy(np.asarray(enc[r["offset"]: r["offset"] + r["frames"]], np.float32))
        mask[j, : r["frames"]] = True
        seq = r["prompt"] + r["target"]
        tok[j, : len(seq) - 1] = torch.tensor(seq[:-1])
        lab[j, len(r["prompt"]) - 1: len(seq) - 1] = torch.tensor(r["target"])
    return tok, audio, mask, lab


def train(rows: list[dict[str, Any]], enc: np.ndarray, model_bin: Path, epochs: float, lr: float, rank: int, scale: float,
          batch_size: int, seed: int, log: Callable[[str], None]) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], list[float]]:
    import torch
    import torch.nn.functional as F

    torch.manual_seed(seed)
    dec = decoder_from(model_bin, rank, scale)
    params = [p for p in dec.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    steps = max(1, int(epochs * len(rows) / batch_size))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    rng = random.Random(seed)
    order: list[int] = []
    while len(order) < steps * batch_size:
        idx = list(range(len(rows)))
        rng.shuffle(idx)
        order += idx
    losses: list[float] = []
    t0 = time.perf_counter()
    dec.train()
    for s in range(steps):
        tok, audio, mask, lab = batch([rows[i] for i in order[s * batch_size:(s + 1) * batch_size]], enc)
        logits = dec(tok, audio, mask)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), lab.reshape(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if s % 20 == 0 or s == steps - 1:
            log(f"step {s + 1}/{steps} loss {np.mean(losses[-20:]):.4f} ({time.perf_counter() - t0:.0f} s)")
    return dec.adapter(), losses


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m agent.bench.asr_adapt", description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=1500, help="fix-learning cases of agent.bench.asr_tune said for training")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--rank", type=int, default=16)
    p.add_argument("--scale", type=float, default=2.0, help="LoRA scale (alpha / rank)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=str(ROOT / "speech" / "data" / "whisper_base_adapter.npz"))
    p.add_argument("--dry-run", action="store_true", help="train and report, write nothing")
    a = p.parse_args(argv)
    import torch

    from agent.bench.asr_tune import WORK, build
    from speech import adapter
    from speech.whisper import resolve

    torch.set_num_threads(max(1, a.threads))
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    t0 = time.perf_counter()
    cases = adapt_cases(a.n)
    wavs = build(cases, WORK)
    rows, enc = encode_all(cases, wavs, WORK, log)
    log(f"{len(cases)} cases, {len(rows)} recordings ({time.perf_counter() - t0:.0f} s)")
    model_bin = Path(resolve("base")) / "model.bin"
    pairs, losses = train(rows, enc, model_bin, a.epochs, a.lr, a.rank, a.scale, a.batch, a.seed, log)
    report = {"_doc": "LoRA adapter of Whisper base's decoder (speech/adapter.py), written by python3 -m agent.bench.asr_adapt; "
                      "trained on espeak-ng speech of the grounder's own training phrases and the grammar's chit-chat, "
                      "never a test utterance (tests/speech/test_adapter.py checks the phrases below).",
              "command": " ".join(["python3 -m agent.bench.asr_adapt", *(argv if argv is not None else sys.argv[1:])]),
              "config": {k: v for k, v in vars(a).items() if k not in ("out", "dry_run")},
              "recordings": len(rows), "steps": len(losses), "loss_first_20": round(float(np.mean(losses[:20])), 4),
              "loss_last_20": round(float(np.mean(losses[-20:])), 4), "seconds": round(time.perf_counter() - t0),
              "phrases": sorted({c["utterance"] for c in cases})}
    log(json.dumps({k: v for k, v in report.items() if k != "phrases"}))
    if not a.dry_run:
        out = adapter.save(a.out, pairs, a.scale)
        Path(out).with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
        log(f"wrote {out} and {Path(out).with_suffix('.json').name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
