"""Finding knowledge: candidates from FAISS (text and appearance) and SQL, exact condition filtering, scoring.

Score of an entry for a task, scene and plan = ``(1 + similarity) / 2 × confidence``, where similarity is the
best cosine between the entry text and the query texts (the task and one "<skill> the <object>" per step,
MiniLM), blended with appearance when object crops are given:
``text_weight × text + visual_weight × appearance`` (:class:`RetrievalConfig`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Optional, Sequence

import numpy as np

from memory.errors import EntryNotFound, KBError
from memory.index import IndexSync
from memory.knowledge import conditions_match, matches_scene, scene_objects, step_roles
from memory.store import EntryStore


@dataclass
class RetrievalConfig:
    """How :meth:`Retriever.retrieve` ranks.

    ``text_weight`` / ``visual_weight``: blend of text and appearance cosine when the entry and the scene both
    have an appearance vector (they sum to 1). ``k``: entries returned. ``min_confidence``: entries below are
    never returned. ``candidates``: nearest neighbours taken from each FAISS query. ``structured_limit``: most
    confident entries for the plan's skills, with a colour condition in the scene, added by SQL.
    """

    text_weight: float = 0.6
    visual_weight: float = 0.4
    k: int = 8
    min_confidence: float = 0.05
    candidates: int = 64
    structured_limit: int = 1000

    def __post_init__(self) -> None:
        if not (0.0 <= self.text_weight <= 1.0 and abs(self.text_weight + self.visual_weight - 1.0) < 1e-9):
            raise KBError(f"text_weight and visual_weight must be in 0..1 and sum to 1, got {self.text_weight}, {self.visual_weight}")


class Encoders:
    """The text embedder and the appearance descriptor, created only when first needed (listing, showing,
    forgetting and exporting never load a model)."""

    def __init__(self, embedder: Any = None, visual: Any = None) -> None:
        self._embedder = embedder
        self._visual = visual

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            from memory.embed import default_embedder

            self._embedder = default_embedder()
        return self._embedder

    @property
    def visual(self) -> Any:
        if self._visual is None:
            from memory.visual import OpenCVDescriptor

            self._visual = OpenCVDescriptor()
        return self._visual

    def text_dim(self) -> Optional[int]:
        """The embedder's dimension if it is loaded (None otherwise: nothing is loaded for it)."""
        return None if self._embedder is None else int(self._embedder.dim)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 rows, one per text."""
        return np.ascontiguousarray(self.embedder.embed(list(texts)), dtype=np.float32)


class Retriever:
    """Search and retrieval over an :class:`memory.store.EntryStore` and its :class:`memory.index.IndexSync`."""

    def __init__(self, store: EntryStore, sync: IndexSync, encoders: Encoders, config: Optional[RetrievalConfig] = None) -> None:
        self.store = store
        self.sync = sync
        self.enc = encoders
        self.config = config or RetrievalConfig()

    def _check_text_space(self) -> None:
        with self.store.read() as con:
            self.store.check_space(con, "text_space", self.enc.embedder.name, self.enc.embedder.dim, False)

    def search(self, text: str, k: int = 5) -> list[dict[str, Any]]:
        """Entries nearest to ``text`` in meaning (MiniLM cosine), best first, each dict with ``score``."""
        with self.store.lock:
            tix, _ = self.sync.ensure()
            if len(tix) == 0:
                return []
            self._check_text_space()
            scores, ids = tix.search(self.enc.embed([text]), k)
            out = []
            for s, i in zip(scores[0], ids[0]):
                if i < 0:
                    continue
                try:
                    with self.store.read() as con:
                        e = self.store.get(con, int(i))
                except EntryNotFound:
                    continue
                out.append({**e.to_dict(), "score": round(float(s), 4)})
            return out

    def retrieve(self, task: str, scene: Any, plan: Optional[Sequence[dict[str, Any]]] = None, step: Optional[int] = None,
                 images: Optional[dict[str, np.ndarray]] = None, k: Optional[int] = None, min_confidence: Optional[float] = None,
                 candidates: Optional[int] = None, structured_limit: Optional[int] = None) -> list[dict[str, Any]]:
        """Knowledge for this task, scene and plan: entries whose conditions match some step of the plan (or only
        step ``step``), or — before there is a plan — objects in the scene; ranked by similarity × confidence.

        Each returned dict is ``Entry.to_dict()`` plus ``score``, ``similarity`` and ``steps`` (matched step
        indices; [] without a plan). ``None`` arguments take the :class:`RetrievalConfig` values.
        """
        cfg = self.config
        k = cfg.k if k is None else k
        min_confidence = cfg.min_confidence if min_confidence is None else min_confidence
        candidates = cfg.candidates if candidates is None else candidates
        structured_limit = cfg.structured_limit if structured_limit is None else structured_limit
        objects = scene_objects(scene)
        plan = list(plan) if plan is not None else None
        if plan is not None and step is not None and not 0 <= step < len(plan):
            raise KBError(f"step {step} is outside the plan (0..{len(plan) - 1})")
        steps = list(range(len(plan))) if plan is not None and step is None else ([step] if plan is not None else [])
        queries = [task or ""]
        for i in steps:
            a = plan[i].get("args") or {}  # type: ignore[index]
            queries.append(f"{plan[i].get('skill', '')} the {a.get('object') or a.get('target') or ''}".strip())  # type: ignore[index]
        with self.store.lock:
            if self.store.count() == 0:
                return []
            tix, vix = self.sync.ensure()
            self._check_text_space()
            qv = self.enc.embed(queries)
            cand: set[int] = set()
            _, ids = tix.search(qv, candidates)
            cand.update(int(i) for i in ids.ravel() if i >= 0)
            img_vecs = {name: self.enc.visual.encode(img) for name, img in (images or {}).items() if img is not None}
            if img_vecs and len(vix):
                _, vids = vix.search(np.stack(list(img_vecs.values())), candidates)
                cand.update(int(i) for i in vids.ravel() if i >= 0)
            with self.store.read() as con:
                skills = sorted({plan[i].get("skill") for i in steps}) if plan is not None else None  # type: ignore[index]
                cand.update(self._structured(con, skills, objects, min_confidence, structured_limit))
                rows = []
                cl = sorted(cand)
                for s in range(0, len(cl), 500):
                    ch = cl[s : s + 500]
                    rows += con.execute(f"SELECT id, data FROM entries WHERE id IN ({','.join('?' * len(ch))})", ch).fetchall()
                vecs = self.store.vectors(con, [r[0] for r in rows])
        out = []
        step_info = [(i, plan[i].get("skill", ""), step_roles(plan, i, objects)) for i in steps] if plan is not None else []
        for row in rows:
            d = {"id": int(row[0]), **json.loads(row[1])}
            if float(d.get("confidence", 0.0)) < min_confidence:
                continue
            cond = d.get("conditions") or {}
            eff_skill = (d.get("effect") or {}).get("skill")
            if plan is not None:
                matched = [i for i, sk, roles in step_info if (not eff_skill or sk == eff_skill) and conditions_match(cond, sk, roles, task)]
                if not matched:
                    continue
            else:
                if not matches_scene(d, {"objects": objects}):
                    continue
                matched = []
            tv, vv = vecs.get(d["id"], (None, None))
            sim = float(np.max(qv @ tv)) if tv is not None and len(tv) == qv.shape[1] else 0.0
            vis = visual_similarity(cond, vv, img_vecs, plan, matched, objects)
            if vis is not None:
                sim = cfg.text_weight * sim + cfg.visual_weight * vis
            score = (1.0 + sim) / 2.0 * float(d.get("confidence", 0.0))
            out.append({**d, "score": round(score, 4), "similarity": round(sim, 4), "steps": matched})
        out.sort(key=lambda d: (-d["score"], d["id"]))
        return out[:k]

    @staticmethod
    def _structured(con: Any, skills: Optional[list[str]], objects: list[dict[str, Any]], min_confidence: float, limit: int) -> list[int]:
        """Most confident entries for these skills whose colour condition (if any) is a colour in view (SQL)."""
        colors = sorted({o.get("color") for o in objects if o.get("color")})
        q = "SELECT id FROM entries WHERE confidence >= ?"
        params: list[Any] = [min_confidence]
        if skills:
            q += f" AND skill IN ({','.join('?' * len(skills))})"
            params += skills
        q += f" AND (c_color IS NULL OR c_color IN ({','.join('?' * len(colors))}))" if colors else " AND c_color IS NULL"
        params += colors
        return [r[0] for r in con.execute(q + " ORDER BY confidence DESC LIMIT ?", [*params, limit])]


def visual_similarity(cond: dict[str, Any], vv: Optional[np.ndarray], img_vecs: dict[str, np.ndarray],
                      plan: Optional[Sequence[dict[str, Any]]], matched: list[int], objects: list[dict[str, Any]]) -> Optional[float]:
    """Cosine between the entry's appearance vector and the crop of the object it would act on, if both exist."""
    if vv is None or not img_vecs:
        return None
    names: list[str] = []
    role = "target" if any(k.startswith("target_") for k in cond) else "held" if any(k.startswith("held_") for k in cond) else "object"
    if plan is not None:
        for i in matched:
            a = plan[i].get("args") or {}
            if role == "held":
                for j in range(i - 1, -1, -1):
                    if plan[j].get("skill") == "pick":
                        names.append((plan[j].get("args") or {}).get("object"))
                        break
            else:
                names.append(a.get(role))
    else:
        names = [o["name"] for o in objects]
    sims = [float(img_vecs[n] @ vv) for n in names if n in img_vecs and len(img_vecs[n]) == len(vv)]
    return max(sims) if sims else None
