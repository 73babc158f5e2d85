"""Storage: the FAISS index wrapper, atomic persisted indexes, corruption and staleness, killed and concurrent writers."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from memory.index import IndexConfig, IndexCorrupt, IndexStale, VectorIndex
from memory.kb import KnowledgeBase

ROOT = Path(__file__).resolve().parents[2]


def _vecs(n, d=32, seed=0):
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _entry(i):
    return {"text": f"entry number {i}: pick with force x1.5", "scope": "skill",
            "effect": {"skill": "pick", "changes": [{"arg": "force", "op": "scale", "value": 1.5}]},
            "conditions": {"skill": "pick", "object_kind": "block", "object_color": ["red", "blue", "green"][i % 3]}}


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_vector_index_kinds_search_remove_and_roundtrip(kind, tmp_path):
    x = _vecs(3000)
    ix = VectorIndex(32, IndexConfig(kind=kind, ivf_nlist=32, nprobe=32))
    ix.build(np.arange(100, 3100), x)
    assert ix.kind == kind and len(ix) == 3000
    s, i = ix.search(x[:20], 3)
    assert (i[:, 0] == np.arange(100, 120)).mean() >= 0.95 and np.all(s[:, 0] >= s[:, 1])
    ix.remove([100, 101])
    _, i = ix.search(x[:2], 3)
    assert 100 not in i and 101 not in i and len(ix) == 2998
    ix.add([100], x[5:6])  # re-adding an id replaces its vector
    ix.save(tmp_path / "a.index", generation=7)
    back = VectorIndex.load(tmp_path / "a.index", expect_generation=7, expect_count=2999)
    assert back.kind == kind and len(back) == 2999
    _, i2 = back.search(x[5:6], 2)
    assert set(i2[0].tolist()) == {105, 100}
    with pytest.raises(IndexStale):
        VectorIndex.load(tmp_path / "a.index", expect_generation=8)


def test_auto_kind_follows_size():
    cfg = IndexConfig(exact_max=1000)
    assert cfg.choose(999) == "flat" and cfg.choose(1000) == "ivf"
    assert IndexConfig(exact_max=1000, large_kind="hnsw").choose(1000) == "hnsw"
    assert VectorIndex(32, IndexConfig(exact_max=1000)).build(np.arange(1200), _vecs(1200)).kind == "ivf"


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage", "empty"])
def test_corrupt_index_file_is_detected_and_rebuilt_from_sqlite(damage, tmp_path):
    from memory.embed import HashingEmbedder

    with KnowledgeBase(tmp_path / "kb", embedder=HashingEmbedder()) as kb:
        for i in range(30):
            kb.add(_entry(i), merge=False)
        kb.check()
        want = [h["id"] for h in kb.search("entry number 7", k=3)]
    p = tmp_path / "kb" / "text.index"
    raw = bytearray(p.read_bytes())
    if damage == "flip":
        raw[len(raw) // 2] ^= 0xFF
    elif damage == "truncate":
        raw = raw[: len(raw) // 3]
    elif damage == "garbage":
        raw = bytearray(b"\x00garbage" * 10)
    else:
        raw = bytearray()
    p.write_bytes(bytes(raw))
    with pytest.raises(IndexCorrupt):
        VectorIndex.load(p)
    with KnowledgeBase(tmp_path / "kb", embedder=HashingEmbedder()) as kb:
        assert [h["id"] for h in kb.search("entry number 7", k=3)] == want
        assert kb.last_index_event.startswith("rebuilt:")
    VectorIndex.load(p)  # rewritten whole


def test_second_process_view_detects_stale_index_and_catches_up(tmp_path):
    from memory.embed import HashingEmbedder

    a = KnowledgeBase(tmp_path / "kb", embedder=HashingEmbedder())
    b = KnowledgeBase(tmp_path / "kb", embedder=HashingEmbedder())
    a.add(_entry(1))
    assert len(b.search("entry number 1")) == 1
    i2 = a.add(_entry(2))
    assert b.search("entry number 2", k=1)[0]["id"] == i2  # b saw the generation move
    b.forget(i2)
    assert i2 not in [h["id"] for h in a.search("entry number 2", k=5)]
    a.close(), b.close()


WRITER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from memory.embed import HashingEmbedder
    from memory.kb import KnowledgeBase
    kb = KnowledgeBase(sys.argv[1], embedder=HashingEmbedder())
    kb.check()
    i = int(sys.argv[2])
    while True:
        kb.add({{"text": f"writer {{sys.argv[2]}} entry {{i}}", "scope": "skill",
                "effect": {{"skill": "pick", "changes": [{{"arg": "force", "op": "scale", "value": 1.5}}]}},
                "conditions": {{"skill": "pick", "object_kind": "block", "object_color": "c%d" % i}}}}, merge=False)
        print(i, flush=True)
        i += 1
""")


def _start_writer(path, start):
    return subprocess.Popen([sys.executable, "-c", WRITER.format(root=str(ROOT)), str(path), str(start)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("delay", [0.4, 0.9])
def test_killed_writer_leaves_a_readable_store(delay, tmp_path):
    from memory.embed import HashingEmbedder

    path = tmp_path / "kb"
    w = _start_writer(path, 0)
    first = w.stdout.readline()  # at least one committed write
    assert first.strip() == "0", w.stderr.read()
    time.sleep(delay)
    os.kill(w.pid, signal.SIGKILL)
    w.wait()
    done = 1 + len(w.stdout.read().split())
    with KnowledgeBase(path, embedder=HashingEmbedder()) as kb:
        c = kb.check()
        assert c["sqlite"] == "ok" and c["entries"] == len(kb) >= done and c["text_vectors"] == len(kb)
        assert kb.search("writer 0 entry 0", k=1)[0]["text"] == "writer 0 entry 0"
        kb.add(_entry(1000), merge=False)  # still writable
    assert not [p.name for p in path.iterdir() if p.name.endswith(".tmp")]  # a dead writer's temp files are swept


def test_two_processes_write_at_once(tmp_path):
    from memory.embed import HashingEmbedder

    path = tmp_path / "kb"
    KnowledgeBase(path, embedder=HashingEmbedder()).close()
    w = _start_writer(path, 0)
    assert w.stdout.readline().strip() == "0", w.stderr.read()
    with KnowledgeBase(path, embedder=HashingEmbedder()) as kb:
        mine = [kb.add(_entry(10_000 + i), merge=False) for i in range(40)]
        os.kill(w.pid, signal.SIGKILL)
        w.wait()
        n = len(kb)
        assert len(set(mine)) == 40 and n >= 41
        c = kb.check()
        assert c["entries"] == n and c["text_vectors"] == n
        hits = kb.search("entry number 10005: pick with force x1.5", k=1)
        assert hits[0]["id"] == mine[5]


@pytest.mark.parametrize("large", ["ivf", "hnsw"])
def test_kb_switches_index_kind_above_the_exact_limit(large, tmp_path):
    from memory.embed import HashingEmbedder

    cfg = IndexConfig(exact_max=50, large_kind=large)
    with KnowledgeBase(tmp_path / "kb", embedder=HashingEmbedder(), index_config=cfg) as kb:
        for i in range(40):
            kb.add(_entry(i), merge=False)
        assert kb.check()["text_index"] == "flat"
        for i in range(40, 80):
            kb.add(_entry(i), merge=False)
        assert kb.check()["text_index"] == large
        assert kb.search("entry number 66: pick with force x1.5", k=1)[0]["text"].startswith("entry number 66")
