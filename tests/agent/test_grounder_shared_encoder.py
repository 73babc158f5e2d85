"""One text encoder per process: the grounder and the knowledge base embed with the same MiniLM (issue #10)."""
from grounder_helpers import encoder


def test_grounder_and_memory_share_one_minilm():
    from memory.embed import default_embedder, shared_minilm

    emb = default_embedder()
    emb.embed(["move left"])  # loads lazily
    assert emb._model is encoder().model is shared_minilm()[1]
    assert not any(p.requires_grad for p in encoder().model.parameters())


def test_the_grounder_never_changes_the_shared_model():
    enc = encoder()
    n = len(enc.model.encoder.layer)
    enc.tokens(["a bit to the left"], n_layers=3)  # an earlier layer's states, without cutting the model
    assert len(enc.model.encoder.layer) == n
