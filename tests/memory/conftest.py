"""Fixtures for the memory tests (helpers to build episodes are in memtest_helpers.py)."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def minilm():
    from memory.embed import default_embedder

    e = default_embedder()
    e.embed(["warm up"])
    return e


@pytest.fixture
def kb(tmp_path, minilm):
    from memory.kb import KnowledgeBase

    k = KnowledgeBase(tmp_path / "kb", embedder=minilm)
    yield k
    k.close()


@pytest.fixture
def hkb(tmp_path):
    """A knowledge base with the hashing embedder (for storage tests that need no semantics)."""
    from memory.embed import HashingEmbedder
    from memory.kb import KnowledgeBase

    k = KnowledgeBase(tmp_path / "hkb", embedder=HashingEmbedder())
    yield k
    k.close()
