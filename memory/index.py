"""A vector index over FAISS with one API whatever its size, persisted atomically and checked on load.

Vectors are L2-normalised float32 rows, so inner product = cosine similarity. The index type follows the
number of vectors (:class:`IndexConfig`):

- ``flat``: exact ``IndexFlatIP``, used below ``exact_max`` (100k) vectors;
- ``ivf``: ``IndexIVFFlat`` with inner product (``nlist`` ~ 4·√n, ``nprobe`` 32), the default above that:
  on 2 cores it built 1M 384-d vectors in ~5 min with recall@5 ≥ 0.95, where HNSW took ~26 min and
  reached 0.937 at efSearch 384 (``robocorrect bench memory``; figures in the memory engineer's report);
- ``hnsw``: ``IndexHNSWFlat`` with inner product (M=32, ``ef_search`` ~96), ``large_kind="hnsw"``.

Every vector has an external id (int64, e.g. a knowledge-base entry id). Removing an id leaves a tombstone
(HNSW cannot delete); searches skip tombstones and :attr:`VectorIndex.dead_fraction` tells the owner when a
rebuild pays off.

File format (:meth:`VectorIndex.save` / :meth:`VectorIndex.load`)::

    b"RCVIDX1\\n" + one JSON header line + payload

The header holds the dimension, kind, counts, the caller's ``generation`` (e.g. the SQLite generation
counter it was built from), the payload length and its CRC-32; the payload is the FAISS index followed by the
id and tombstone arrays. Files are written to a temporary name, fsynced and moved into place with
``os.replace``, so a crash leaves either the old file or the new one, never half of one. A truncated or
corrupt file raises :class:`IndexCorrupt`; a file from another generation raises :class:`IndexStale`; the
owner then rebuilds from its source of truth.
"""
from __future__ import annotations

import io
import json
import logging
import os
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Protocol

import numpy as np
from hardware.errors import RobocorrectError

log = logging.getLogger(__name__)
MAGIC = b"RCVIDX1\n"
KINDS = ("auto", "flat", "hnsw", "ivf")


class IndexError_(RobocorrectError, RuntimeError):
    """Base class of index file problems."""


class IndexCorrupt(IndexError_):
    """The index file is missing, truncated, or its checksum or header does not match."""


class IndexStale(IndexError_):
    """The index file is intact but was built from another generation of the source data."""


@dataclass
class IndexConfig:
    """How to index. ``kind='auto'`` picks exact search below ``exact_max`` vectors and ``large_kind`` above.

    HNSW: ``hnsw_m`` links per node, ``ef_construction`` build beam, ``ef_search`` query beam.
    IVF: ``ivf_nlist`` lists (0 = about 4·√n, at most 65536), ``nprobe`` lists visited per query,
    ``train_size`` vectors sampled to train the coarse quantiser.
    """

    kind: str = "auto"
    exact_max: int = 100_000
    large_kind: str = "ivf"
    hnsw_m: int = 32
    ef_construction: int = 40
    ef_search: int = 96
    ivf_nlist: int = 0
    nprobe: int = 32
    train_size: int = 131_072
    ivf_niter: int = 10
    add_chunk: int = 50_000
    single_thread_below: int = 16

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown index kind {self.kind!r}; choose one of {', '.join(KINDS)}")
        if self.large_kind not in ("hnsw", "ivf"):
            raise ValueError(f"large_kind must be 'hnsw' or 'ivf', got {self.large_kind!r}")

    def choose(self, n: int) -> str:
        """The index kind to use for ``n`` vectors."""
        if self.kind != "auto":
            return self.kind
        return "flat" if n < self.exact_max else self.large_kind


def _faiss():
    import faiss  # heavy; imported on first use

    return faiss


def normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero), as contiguous float32."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    n = np.linalg.norm(x, axis=1, keepdims=True)
    n[n == 0] = 1.0
    return np.ascontiguousarray(x / n, dtype=np.float32)


class VectorIndex:
    """Inner-product search over unit vectors with external int64 ids; type chosen by size (see module doc).

    One job, a little over 300 lines: it keeps one FAISS index and its id map consistent through adds,
    deletes, rebuilds (exact -> IVF as it grows), searches and save/load; splitting the id bookkeeping from
    the index it describes would make every method cross an interface."""

    def __init__(self, dim: int, config: Optional[IndexConfig] = None) -> None:
        if dim <= 0:
            raise ValueError(f"dimension must be positive, got {dim}")
        self.dim = int(dim)
        self.config = config or IndexConfig()
        self.kind = "flat"
        self._index: Any = None
        self._ids_buf = np.zeros(0, dtype=np.int64)  # internal label -> external id (capacity-doubling)
        self._alive_buf = np.zeros(0, dtype=bool)
        self._n = 0
        self._pos: dict[int, int] = {}  # external id -> internal label of its live vector
        self.generation = 0

    @property
    def _ids(self) -> np.ndarray:
        return self._ids_buf[: self._n]

    @property
    def _alive(self) -> np.ndarray:
        return self._alive_buf[: self._n]

    # --- building ---------------------------------------------------------------------------------
    def _new_index(self, kind: str, train: Optional[np.ndarray], n_expected: int) -> Any:
        faiss = _faiss()
        c = self.config
        if kind == "flat":
            return faiss.IndexFlatIP(self.dim)
        if kind == "hnsw":
            idx = faiss.IndexHNSWFlat(self.dim, c.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            idx.hnsw.efConstruction = c.ef_construction
            idx.hnsw.efSearch = c.ef_search
            return idx
        if kind == "ivf":
            nlist = c.ivf_nlist or int(min(65536, max(16, 4 * np.sqrt(max(n_expected, 1)))))
            if train is None or len(train) < nlist:
                raise ValueError(f"an IVF index with {nlist} lists needs at least {nlist} training vectors")
            quant = faiss.IndexFlatIP(self.dim)
            idx = faiss.IndexIVFFlat(quant, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
            idx.cp.niter = c.ivf_niter
            idx.cp.max_points_per_centroid = max(1, c.train_size // nlist + 1)  # sampling is done here, quietly
            sample = train
            if len(train) > c.train_size:
                sel = np.random.default_rng(0).choice(len(train), c.train_size, replace=False)
                sample = train[np.sort(sel)]
            idx.train(np.ascontiguousarray(sample, dtype=np.float32))
            idx.nprobe = c.nprobe
            idx.make_direct_map()
            return idx
        raise ValueError(f"unknown index kind {kind!r}")

    def build(self, ids: Iterable[int] | np.ndarray, vectors: np.ndarray, kind: Optional[str] = None) -> "VectorIndex":
        """Replace the contents with ``vectors`` (n × dim, unit rows) under ``ids``; the kind follows n unless given."""
        ids = np.asarray(list(ids) if not isinstance(ids, np.ndarray) else ids, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim == 2 and len(vectors):
            self.dim = int(vectors.shape[1])
        vectors = vectors.reshape(-1, self.dim)
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} ids for {len(vectors)} vectors")
        if len(np.unique(ids)) != len(ids):
            raise ValueError("duplicate ids in build()")
        self.kind = kind or self.config.choose(len(ids))
        self._index = self._new_index(self.kind, vectors if self.kind == "ivf" else None, len(ids))
        self._ids_buf = np.zeros(0, dtype=np.int64)
        self._alive_buf = np.zeros(0, dtype=bool)
        self._n = 0
        self._pos = {}
        self.add(ids, vectors)
        return self

    def add(self, ids: Iterable[int] | np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors; an id already present is replaced (its old vector becomes a tombstone)."""
        ids = np.asarray(list(ids) if not isinstance(ids, np.ndarray) else ids, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim == 2 and self._index is None and vectors.shape[1] != self.dim and len(vectors):
            self.dim = int(vectors.shape[1])  # an empty index takes the dimension of its first vectors
        vectors = vectors.reshape(-1, self.dim)
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} ids for {len(vectors)} vectors")
        if len(ids) == 0:
            return
        if self._index is None:
            self.kind = self.config.choose(len(ids))
            self._index = self._new_index(self.kind, vectors if self.kind == "ivf" else None, len(ids))
        if self._pos:
            self.remove(int(i) for i in ids if int(i) in self._pos)
        start = self._n
        step = max(1, self.config.add_chunk)
        for s in range(0, len(vectors), step):
            self._index.add(vectors[s : s + step])
        need = start + len(ids)
        if need > len(self._ids_buf):  # grow geometrically: single adds stay O(1) amortised
            cap = max(need, 2 * len(self._ids_buf), 1024)
            ids_buf = np.zeros(cap, dtype=np.int64)
            alive_buf = np.zeros(cap, dtype=bool)
            ids_buf[:start] = self._ids_buf[:start]
            alive_buf[:start] = self._alive_buf[:start]
            self._ids_buf, self._alive_buf = ids_buf, alive_buf
        self._ids_buf[start:need] = ids
        self._alive_buf[start:need] = True
        self._n = need
        for j, i in enumerate(ids.tolist()):
            self._pos[i] = start + j

    def remove(self, ids: Iterable[int]) -> int:
        """Tombstone these ids (unknown ids are ignored); returns how many were live."""
        n = 0
        for i in ids:
            p = self._pos.pop(int(i), None)
            if p is not None:
                self._alive_buf[p] = False
                n += 1
        return n

    # --- queries ---------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._pos)

    def __contains__(self, id_: int) -> bool:
        return int(id_) in self._pos

    @property
    def ntotal(self) -> int:
        return 0 if self._index is None else int(self._index.ntotal)

    @property
    def dead_fraction(self) -> float:
        return 0.0 if self.ntotal == 0 else 1.0 - len(self) / self.ntotal

    @property
    def wants_rebuild(self) -> bool:
        """True when tombstones exceed a quarter of the vectors or the size now calls for another kind."""
        return self.dead_fraction > 0.25 or (self.config.kind == "auto" and self.config.choose(len(self)) != self.kind)

    def set_search_params(self, ef_search: Optional[int] = None, nprobe: Optional[int] = None) -> None:
        if ef_search is not None:
            self.config.ef_search = ef_search
            if self.kind == "hnsw" and self._index is not None:
                self._index.hnsw.efSearch = ef_search
        if nprobe is not None:
            self.config.nprobe = nprobe
            if self.kind == "ivf" and self._index is not None:
                self._index.nprobe = nprobe

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (scores, ids) per query row, best first; missing slots have id -1 and score -inf."""
        q = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        nq = len(q)
        out_s = np.full((nq, k), -np.inf, dtype=np.float32)
        out_i = np.full((nq, k), -1, dtype=np.int64)
        if self._index is None or len(self) == 0 or k <= 0:
            return out_s, out_i
        dead = self.ntotal - len(self)
        kk = int(min(self.ntotal, k + dead if dead <= 4 * k else 4 * k + min(dead, 1024)))
        if self.kind == "hnsw":
            self._index.hnsw.efSearch = max(self.config.ef_search, kk)
        if nq <= self.config.single_thread_below:
            # a handful of queries gains nothing from OpenMP and pays its start-up (badly, on a busy machine)
            faiss = _faiss()
            prev = faiss.omp_get_max_threads()
            faiss.omp_set_num_threads(1)
            try:
                scores, labels = self._index.search(q, kk)
            finally:
                faiss.omp_set_num_threads(prev)
        else:
            scores, labels = self._index.search(q, kk)
        for r in range(nq):
            lab = labels[r]
            ok = lab >= 0
            lab, sc = lab[ok], scores[r][ok]
            alive = self._alive[lab]
            lab, sc = lab[alive][:k], sc[alive][:k]
            out_s[r, : len(lab)] = sc
            out_i[r, : len(lab)] = self._ids[lab]
        return out_s, out_i

    def memory_bytes(self) -> int:
        """Approximate bytes the FAISS structure holds (vectors plus graph / lists)."""
        if self._index is None:
            return 0
        base = self.ntotal * self.dim * 4
        if self.kind == "hnsw":
            base += self.ntotal * self.config.hnsw_m * 2 * 4 * 1.1
        elif self.kind == "ivf":
            base += self.ntotal * 8 + self._index.nlist * self.dim * 4
        return int(base + self._ids.nbytes + self._alive.nbytes)

    # --- persistence -----------------------------------------------------------------------------
    def save(self, path: str | Path, generation: Optional[int] = None) -> None:
        """Write atomically (tmp file + fsync + os.replace); ``generation`` is stored in the header."""
        faiss = _faiss()
        path = Path(path)
        if generation is not None:
            self.generation = int(generation)
        blob = b"" if self._index is None else faiss.serialize_index(self._index).tobytes()
        extra = io.BytesIO()
        np.save(extra, self._ids, allow_pickle=False)
        np.save(extra, self._alive, allow_pickle=False)
        payload = blob + extra.getvalue()
        header = {
            "dim": self.dim,
            "kind": self.kind,
            "count": len(self),
            "ntotal": self.ntotal,
            "generation": self.generation,
            "faiss_bytes": len(blob),
            "payload_bytes": len(payload),
            "crc32": zlib.crc32(payload),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as f:
                f.write(MAGIC)
                f.write(json.dumps(header).encode() + b"\n")
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
        try:
            dfd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError:
            pass

    @staticmethod
    def read_header(path: str | Path) -> dict[str, Any]:
        """The JSON header of an index file; :class:`IndexCorrupt` if it is not one."""
        try:
            with open(path, "rb") as f:
                if f.read(len(MAGIC)) != MAGIC:
                    raise IndexCorrupt(f"{path}: not a robocorrect index file (bad magic)")
                line = f.readline(1 << 16)
        except FileNotFoundError:
            raise IndexCorrupt(f"{path}: no index file") from None
        try:
            h = json.loads(line)
            for key in ("dim", "kind", "count", "ntotal", "generation", "faiss_bytes", "payload_bytes", "crc32"):
                h[key]
        except (ValueError, KeyError, TypeError) as e:
            raise IndexCorrupt(f"{path}: unreadable header ({e})") from None
        return h

    @classmethod
    def load(
        cls,
        path: str | Path,
        config: Optional[IndexConfig] = None,
        expect_generation: Optional[int] = None,
        expect_count: Optional[int] = None,
        expect_dim: Optional[int] = None,
    ) -> "VectorIndex":
        """Read and verify an index file (magic, header, length, CRC-32, FAISS structure, counts).

        Raises :class:`IndexCorrupt` for damage and :class:`IndexStale` when the stored generation or count
        differs from what the caller expects.
        """
        faiss = _faiss()
        h = cls.read_header(path)
        if expect_generation is not None and h["generation"] != expect_generation:
            raise IndexStale(f"{path}: built at generation {h['generation']}, source is at {expect_generation}")
        if expect_count is not None and h["count"] != expect_count:
            raise IndexStale(f"{path}: holds {h['count']} vectors, source has {expect_count}")
        if expect_dim is not None and h["dim"] != expect_dim:
            raise IndexStale(f"{path}: dimension {h['dim']}, expected {expect_dim}")
        with open(path, "rb") as f:
            f.read(len(MAGIC))
            f.readline(1 << 16)
            payload = f.read()
        if len(payload) != h["payload_bytes"]:
            raise IndexCorrupt(f"{path}: truncated ({len(payload)} of {h['payload_bytes']} payload bytes)")
        if zlib.crc32(payload) != h["crc32"]:
            raise IndexCorrupt(f"{path}: checksum mismatch")
        self = cls(int(h["dim"]), config)
        self.kind = h["kind"]
        self.generation = int(h["generation"])
        try:
            nb = int(h["faiss_bytes"])
            if nb:
                self._index = faiss.deserialize_index(np.frombuffer(payload[:nb], dtype=np.uint8).copy())
            extra = io.BytesIO(payload[nb:])
            self._ids_buf = np.load(extra, allow_pickle=False).astype(np.int64)
            self._alive_buf = np.load(extra, allow_pickle=False).astype(bool)
            self._n = len(self._ids_buf)
        except Exception as e:  # noqa: BLE001 - any decoding failure means a damaged file
            raise IndexCorrupt(f"{path}: cannot decode index ({e})") from None
        if len(self._ids) != self.ntotal or len(self._alive) != self.ntotal or int(self._alive.sum()) != h["count"]:
            raise IndexCorrupt(f"{path}: id table does not match the index ({len(self._ids)} ids, {self.ntotal} vectors)")
        self._pos = {int(i): p for p, i in enumerate(self._ids.tolist()) if self._alive[p]}
        if self.kind == "hnsw":
            self._index.hnsw.efSearch = self.config.ef_search
        elif self.kind == "ivf":
            self._index.nprobe = self.config.nprobe
        return self


class VectorSource(Protocol):
    """What :class:`IndexSync` reads from the source of truth (``memory.store.EntryStore`` provides it)."""

    lock: Any

    def generation(self) -> int: ...

    def read(self) -> Any: ...  # context manager yielding a connection with an ``entries`` table


class IndexSync:
    """The FAISS text and visual indexes of a knowledge base, kept in step with its SQLite generation counter.

    In memory they follow this process's own commits (:meth:`after_write`); when another process has written
    (the generation moved past them) or an index file is stale or damaged, :meth:`ensure` loads the files or
    rebuilds them from the vectors in SQLite. Files are written when at most ``persist_max`` vectors are indexed,
    else on :meth:`flush` only. ``last_event``: 'loaded', 'rebuilt: <why>' or 'updated' (for logs and tests).
    """

    def __init__(self, source: VectorSource, paths: dict[str, Path], config: Optional[IndexConfig] = None,
                 persist_max: int = 200_000, text_dim: Callable[[], Optional[int]] = lambda: None) -> None:
        self.source = source
        self.paths = paths
        self.config = config or IndexConfig()
        self.persist_max = persist_max
        self.text_dim = text_dim
        self.indexes: dict[str, Optional[VectorIndex]] = {"text": None, "visual": None}
        self.generation: Optional[int] = None
        self.dirty = False
        self.last_event = ""

    def invalidate(self) -> None:
        """Forget the in-memory indexes' generation: the next :meth:`ensure` reloads or rebuilds."""
        self.generation = None

    def after_write(self, old_gen: int, new_gen: int, upserts: dict[int, tuple[Optional[np.ndarray], Optional[np.ndarray]]],
                    deletes: Iterable[int]) -> None:
        """Bring the in-memory indexes along with a committed write, or mark them stale if another process wrote too."""
        with self.source.lock:
            if self.generation != old_gen or any(ix is None for ix in self.indexes.values()):
                self.generation = None
                return
            t, v = self.indexes["text"], self.indexes["visual"]
            deletes = list(deletes)
            t.remove(deletes)  # type: ignore[union-attr]
            v.remove(deletes)  # type: ignore[union-attr]
            for i, (tv, vv) in upserts.items():
                if tv is not None:
                    t.add([i], tv[None, :])  # type: ignore[union-attr]
                if vv is not None:
                    v.add([i], vv[None, :])  # type: ignore[union-attr]
                elif i in v:  # type: ignore[operator]
                    v.remove([i])  # type: ignore[union-attr]
            if t.wants_rebuild or v.wants_rebuild:  # type: ignore[union-attr]
                self.generation = None
                return
            self.generation = new_gen
            self.dirty = True
            self.last_event = "updated"
            if len(t) <= self.persist_max:  # type: ignore[arg-type]
                self._save(new_gen)

    def _save(self, gen: int) -> None:
        for name, ix in self.indexes.items():
            if ix is not None:
                ix.save(self.paths[name], generation=gen)
        self.dirty = False

    def flush(self) -> None:
        """Write the index files if the in-memory indexes are newer than them."""
        with self.source.lock:
            if self.dirty and self.generation is not None:
                self._save(self.generation)

    def ensure(self) -> tuple[VectorIndex, VectorIndex]:
        """(text, visual) indexes matching the database's current generation: in memory, else from the files,
        else rebuilt."""
        with self.source.lock:
            gen = self.source.generation()
            if self.generation == gen and all(ix is not None for ix in self.indexes.values()):
                return self.indexes["text"], self.indexes["visual"]  # type: ignore[return-value]
            with self.source.read() as con:
                gen = int(con.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
                n_text = con.execute("SELECT COUNT(*) FROM entries WHERE text_vec IS NOT NULL").fetchone()[0]
                n_vis = con.execute("SELECT COUNT(*) FROM entries WHERE visual_vec IS NOT NULL").fetchone()[0]
            try:
                loaded = {name: VectorIndex.load(self.paths[name], IndexConfig(**asdict(self.config)), expect_generation=gen,
                                                 expect_count=n)
                          for name, n in (("text", n_text), ("visual", n_vis))}
                self.indexes.update(loaded)
                self.generation = gen
                self.last_event = "loaded"
            except (IndexCorrupt, IndexStale) as e:
                if isinstance(e, IndexCorrupt) and "no index file" not in str(e):
                    log.warning("knowledge index damaged, rebuilding from SQLite: %s", e)
                self.rebuild(reason=str(e))
            return self.indexes["text"], self.indexes["visual"]  # type: ignore[return-value]

    def rebuild(self, reason: str = "requested") -> None:
        """Rebuild both indexes from the vectors stored in SQLite and write them atomically."""
        with self.source.lock:
            with self.source.read() as con:
                gen = int(con.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
                rows = con.execute("SELECT id, text_vec, visual_vec FROM entries").fetchall()
            built = {}
            for name, col in (("text", 1), ("visual", 2)):
                ids = [r[0] for r in rows if r[col]]
                vecs = [np.frombuffer(r[col], np.float32) for r in rows if r[col]]
                dim = len(vecs[0]) if vecs else ((self.text_dim() or 384) if name == "text" else 64)
                ix = VectorIndex(dim, IndexConfig(**asdict(self.config)))
                if ids:
                    ix.build(np.asarray(ids, np.int64), np.stack(vecs))
                built[name] = ix
            self.indexes.update(built)
            self.generation = gen
            self._save(gen)
            self.last_event = f"rebuilt: {reason}"
