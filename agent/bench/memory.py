"""``robocorrect bench memory``: knowledge-base vector search latency, recall and insert rate at scale.

Synthetic data: ``--entries`` unit vectors of ``--dim`` (384, MiniLM's size) drawn as a clustered Gaussian
(``--clusters`` random unit centres, each vector = centre + isotropic noise, renormalised), which is how
sentence embeddings of many similar corrections look, rather than uniform noise (on which every ANN index
looks bad and exact search looks good). Queries are fresh draws from the same mixture.

Figures: build time and insert rate (vectors/s, whole build, and one-at-a-time adds into the built index),
single-query latency p50 / p95 (ms, batch of one, as the robot asks before each step), recall@k against exact
search (exact top-k by brute-force inner product), and the process's resident memory (MB, now and peak).
The search parameter (HNSW ``efSearch`` or IVF ``nprobe``) is tuned: the smallest value from a ladder whose
recall@k reaches ``--target-recall`` is used for the latency run. The last line printed is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import numpy as np
from hardware import runtime


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--entries", type=int, default=100_000, help="vectors in the index (default 100000)")
    parser.add_argument("--dim", type=int, default=384, help="vector dimension (default 384)")
    parser.add_argument("--index", choices=("auto", "flat", "hnsw", "ivf"), default="auto",
                        help="index kind; auto = exact below 100k, IVF above (default auto)")
    parser.add_argument("--queries", type=int, default=1000, help="single queries timed (default 1000)")
    parser.add_argument("--recall-queries", type=int, default=200, help="queries checked against exact search (default 200)")
    parser.add_argument("--k", type=int, default=5, help="neighbours per query for recall@k (default 5)")
    parser.add_argument("--clusters", type=int, default=0, help="mixture components (default entries/1000, 16..4096)")
    parser.add_argument("--noise", type=float, default=0.01, help="isotropic per-component noise std (default 0.01)")
    parser.add_argument("--latent", type=int, default=32, help="dimension of the within-cluster variation (default 32; 0 = isotropic only)")
    parser.add_argument("--spread", type=float, default=0.25, help="std of the within-cluster latent variation (default 0.25)")
    parser.add_argument("--hnsw-m", type=int, default=32)
    parser.add_argument("--ef-construction", type=int, default=40)
    parser.add_argument("--ef-search", type=int, default=0, help="fix efSearch instead of tuning it")
    parser.add_argument("--nlist", type=int, default=0, help="IVF lists (default about 4*sqrt(n))")
    parser.add_argument("--nprobe", type=int, default=0, help="fix IVF nprobe instead of tuning it")
    parser.add_argument("--ivf-niter", type=int, default=10, help="k-means iterations when training IVF (default 10)")
    parser.add_argument("--target-recall", type=float, default=0.95)
    parser.add_argument("--threads", type=int, default=2, help="FAISS OpenMP threads for building (default 2)")
    parser.add_argument("--query-threads", type=int, default=1, help="OpenMP threads while timing single queries (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--retrieve", type=int, default=0, metavar="N",
                        help="also time KnowledgeBase.retrieve end to end (MiniLM query embedding, SQLite, condition "
                             "filter) on a temporary knowledge base of N synthetic entries (default 0: skip)")
    parser.add_argument("--json", action="store_true", help="print only the JSON line (progress still goes to stderr)")


def _rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size of this process in MB (Linux /proc)."""
    cur = peak = 0.0
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    cur = int(line.split()[1]) / 1024
                elif line.startswith("VmHWM:"):
                    peak = int(line.split()[1]) / 1024
    except OSError:
        pass
    return round(cur, 1), round(peak, 1)


def clustered_vectors(n: int, dim: int, centres: np.ndarray, noise: float, rng: np.random.Generator, chunk: int = 100_000,
                      basis: np.ndarray | None = None, spread: float = 0.0) -> np.ndarray:
    """``n`` unit vectors (float32) from a Gaussian mixture around ``centres``, built in chunks.

    Each vector = centre + ``spread`` · (``basis`` @ z, z ~ N(0, I) in a low-dimensional latent space) +
    isotropic noise of std ``noise`` per component, then renormalised: clusters with a low intrinsic
    dimension, as sentence embeddings have.
    """
    out = np.empty((n, dim), dtype=np.float32)
    for s in range(0, n, chunk):
        m = min(chunk, n - s)
        lab = rng.integers(0, len(centres), m)
        x = rng.standard_normal((m, dim), dtype=np.float32)
        x *= np.float32(noise)
        x += centres[lab]
        if basis is not None and spread > 0:
            z = rng.standard_normal((m, basis.shape[1]), dtype=np.float32)
            x += np.float32(spread) * (z @ basis.T)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        out[s : s + m] = x
    return out


def exact_topk(data: np.ndarray, queries: np.ndarray, k: int, chunk: int = 200_000) -> np.ndarray:
    """Row indices of the exact top-``k`` inner products, by brute force in chunks."""
    best_s = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_i = np.full((len(queries), k), -1, dtype=np.int64)
    for s in range(0, len(data), chunk):
        sc = queries @ data[s : s + chunk].T
        kk = min(k, sc.shape[1])
        part = np.argpartition(-sc, kk - 1, axis=1)[:, :kk]
        cand_s = np.concatenate([best_s, np.take_along_axis(sc, part, 1)], axis=1)
        cand_i = np.concatenate([best_i, part + s], axis=1)
        order = np.argsort(-cand_s, axis=1)[:, :k]
        best_s = np.take_along_axis(cand_s, order, 1)
        best_i = np.take_along_axis(cand_i, order, 1)
    return best_i


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    hits = sum(len(set(f[f >= 0].tolist()) & set(t.tolist())) for f, t in zip(found, truth))
    return hits / float(truth.size)


def run_bench(a: argparse.Namespace, log=lambda s: print(s, file=sys.stderr, flush=True)) -> dict[str, Any]:
    from memory.index import IndexConfig, VectorIndex

    runtime.set_threads(max(1, a.threads))
    rng = np.random.default_rng(a.seed)
    n, dim, k = a.entries, a.dim, a.k
    nclusters = a.clusters or int(min(4096, max(16, n // 1000)))
    centres = rng.standard_normal((nclusters, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)

    basis = None
    if a.latent > 0:
        basis = np.linalg.qr(rng.standard_normal((dim, a.latent)))[0].astype(np.float32)  # orthonormal columns
    t0 = time.perf_counter()
    data = clustered_vectors(n, dim, centres, a.noise, rng, basis=basis, spread=a.spread)
    queries = clustered_vectors(max(a.queries, a.recall_queries), dim, centres, a.noise, rng, basis=basis, spread=a.spread)
    gen_s = time.perf_counter() - t0
    log(f"generated {n} x {dim} clustered vectors ({nclusters} clusters) in {gen_s:.1f} s")

    t0 = time.perf_counter()
    rq = queries[: a.recall_queries]
    truth = exact_topk(data, rq, k)
    exact_ms = (time.perf_counter() - t0) * 1000 / len(rq)
    log(f"exact top-{k} for {len(rq)} queries: {exact_ms:.1f} ms/query (brute force, numpy)")

    cfg = IndexConfig(kind=a.index, hnsw_m=a.hnsw_m, ef_construction=a.ef_construction,
                      ivf_nlist=a.nlist, ivf_niter=a.ivf_niter)
    index = VectorIndex(dim, cfg)
    kind = cfg.choose(n)
    log(f"building {kind} index over {n} vectors with {a.threads} threads ...")
    t0 = time.perf_counter()
    index.build(np.arange(n, dtype=np.int64), data, kind=kind)
    build_s = time.perf_counter() - t0
    log(f"built in {build_s:.1f} s ({n / build_s:,.0f} vectors/s)")

    # Tune the search parameter on the recall queries (batched, all threads).
    if kind == "hnsw":
        ladder = [a.ef_search] if a.ef_search else [32, 48, 64, 96, 128, 192, 256, 384]
        knob = "ef_search"
    elif kind == "ivf":
        ladder = [a.nprobe] if a.nprobe else [4, 8, 16, 24, 32, 48, 64, 96, 128, 256]
        knob = "nprobe"
    else:
        ladder, knob = [0], None
    tuning: list[dict[str, Any]] = []
    chosen = ladder[-1]
    for v in ladder:
        if knob:
            index.set_search_params(**{knob: v})
        _, found = index.search(rq, k)
        r = recall_at_k(found, truth)
        tuning.append({knob or "exact": v, "recall": round(r, 4)})
        log(f"  {knob or 'exact'}={v}: recall@{k} {r:.4f}")
        if r >= a.target_recall:
            chosen = v
            break
    if knob:
        index.set_search_params(**{knob: chosen})
    _, found = index.search(rq, k)
    recall = recall_at_k(found, truth)

    runtime.set_threads(max(1, a.query_threads))
    lat = []
    for i in range(min(20, len(queries))):  # warm-up
        index.search(queries[i : i + 1], k)
    for i in range(a.queries):
        q = queries[i : i + 1]
        t = time.perf_counter()
        index.search(q, k)
        lat.append((time.perf_counter() - t) * 1000)
    lat_a = np.array(lat)
    del data

    # Incremental inserts into the built index, one vector per call (how the knowledge base grows), with the
    # query thread setting: a single vector gains nothing from more threads, only OpenMP start-up cost.
    extra = clustered_vectors(200, dim, centres, a.noise, rng, basis=basis, spread=a.spread)
    t0 = time.perf_counter()
    for j in range(len(extra)):
        index.add(np.array([n + j], dtype=np.int64), extra[j : j + 1])
    add_rate = len(extra) / (time.perf_counter() - t0)
    rss, peak = _rss_mb()
    result = {
        "bench": "memory",
        "entries": n,
        "dim": dim,
        "index": kind,
        "params": {"hnsw_m": a.hnsw_m, "ef_construction": a.ef_construction, knob: chosen} if kind == "hnsw"
        else {"nlist": int(index._index.nlist), "train_size": cfg.train_size, "kmeans_niter": cfg.ivf_niter, knob: chosen} if kind == "ivf" else {},
        "k": k,
        "recall_at_k": round(recall, 4),
        "query_p50_ms": round(float(np.percentile(lat_a, 50)), 3),
        "query_p95_ms": round(float(np.percentile(lat_a, 95)), 3),
        "query_mean_ms": round(float(lat_a.mean()), 3),
        "exact_numpy_ms_per_query": round(exact_ms, 2),
        "build_s": round(build_s, 2),
        "insert_rate_build_per_s": round(n / build_s, 1),
        "insert_rate_single_per_s": round(add_rate, 1),
        "rss_mb": rss,
        "peak_rss_mb": peak,
        "index_mb_estimate": round(index.memory_bytes() / 2**20, 1),
        "threads_build": a.threads,
        "threads_query": a.query_threads,
        "clusters": nclusters,
        "data": {"clusters": nclusters, "latent_dim": a.latent, "spread": a.spread, "noise": a.noise},
        "tuning": tuning,
        "data_gen_s": round(gen_s, 2),
    }
    return result


def bench_retrieve(n: int, calls: int = 50, seed: int = 0, log=lambda s: print(s, file=sys.stderr, flush=True)) -> dict[str, Any]:
    """End-to-end ``KnowledgeBase.retrieve`` latency on ``n`` synthetic entries (real MiniLM, temp directory)."""
    import random
    import tempfile

    from memory.kb import Entry, KnowledgeBase

    rng = random.Random(seed)
    colors = ["red", "green", "blue", "yellow", "orange", "purple", "pink", "white", "black", "gray"]
    sizes = ["small", "medium", "large"]
    entries = []
    for i in range(n):
        c, sz = rng.choice(colors), rng.choice(sizes)
        if i % 2:
            cond = {"skill": "pick", "object_kind": "block", "object_color": c}
            eff = {"skill": "pick", "changes": [{"arg": "force", "op": "scale", "value": round(rng.uniform(1.1, 2.0), 2)}]}
            text = f"the {c} block #{i}: pick with force x{eff['changes'][0]['value']} (firmer grip)"
        else:
            cond = {"skill": "place", "target_kind": "bowl", "target_color": c}
            dy = round(rng.uniform(-0.04, 0.04), 3)
            eff = {"skill": "place", "changes": [{"arg": "offset", "op": "add", "value": [0.0, dy, 0.0]}]}
            text = f"the {c} bowl #{i}: place with offset y {100 * dy:+.1f} cm ({'left' if dy > 0 else 'right'}) [{sz}]"
        entries.append(Entry(text=text, scope="skill", effect=eff, conditions=cond, sources=[f"syn{i}"]))
    with tempfile.TemporaryDirectory() as d:
        kb = KnowledgeBase(d)
        t0 = time.perf_counter()
        tv = kb.embedder.embed([e.text for e in entries])
        kb.bulk_load(entries, tv)  # one transaction, no merging (synthetic entries are distinct)
        load_s = time.perf_counter() - t0
        kb.rebuild_indexes("bench")
        log(f"knowledge base of {n} entries embedded and stored in {load_s:.1f} s")
        scene = {"objects": [{"name": "red block", "kind": "block", "color": "red", "size": 0.04, "position": [0.5, 0.1, 0.02]},
                             {"name": "green bowl", "kind": "bowl", "color": "green", "size": 0.16, "position": [0.6, -0.1, 0.03]}]}
        plan = [{"skill": "pick", "args": {"object": "red block"}}, {"skill": "place", "args": {"target": "green bowl"}}]
        kb.retrieve("put the red block in the green bowl", scene, plan)  # warm-up
        lat, got = [], 0
        for i in range(calls):
            t = time.perf_counter()
            r = kb.retrieve(f"put the red block in the green bowl ({i})", scene, plan, k=8)
            lat.append((time.perf_counter() - t) * 1000)
            got = len(r)
        kb.close()
    a = np.array(lat)
    return {"entries": n, "p50_ms": round(float(np.percentile(a, 50)), 2), "p95_ms": round(float(np.percentile(a, 95)), 2),
            "returned": got, "load_s": round(load_s, 2)}


def run(args: argparse.Namespace) -> int:
    if args.entries < max(10, args.k):
        print(f"error: --entries must be at least {max(10, args.k)}", file=sys.stderr)
        return 2
    res = run_bench(args)
    if args.retrieve > 0:
        res["retrieve"] = bench_retrieve(args.retrieve, seed=args.seed)
    if not args.json:
        print(f"{res['index']} index, {res['entries']:,} x {res['dim']}: p50 {res['query_p50_ms']} ms, "
              f"p95 {res['query_p95_ms']} ms, recall@{res['k']} {res['recall_at_k']}, build {res['build_s']} s "
              f"({res['insert_rate_build_per_s']:,.0f}/s), single adds {res['insert_rate_single_per_s']:,.0f}/s, "
              f"RSS {res['rss_mb']} MB (peak {res['peak_rss_mb']} MB)")
        if "retrieve" in res:
            r = res["retrieve"]
            print(f"KnowledgeBase.retrieve over {r['entries']:,} entries (MiniLM query, SQLite, conditions): "
                  f"p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms")
    print(json.dumps(res))
    return 0
