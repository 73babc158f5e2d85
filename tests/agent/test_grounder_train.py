"""A tiny training run works end to end: corpus -> frozen MiniLM states -> heads -> checkpoint -> policy."""
import torch

from agent.grounder.policy import EmbeddedPolicy
from agent.grounder.trainer import TrainConfig, train
from grounder_helpers import encoder, pick_place, scene_rgby
from skills.schema import validate_plan


def test_tiny_training_run_is_reproducible(tmp_path):
    cfg = TrainConfig(seed=1, n_ground=120, n_plan=40, n_val_ground=30, n_val_plan=10, epochs=1, batch=32)
    lines = []
    meta = train(cfg, str(tmp_path / "ck"), log=lines.append, enc=encoder())
    train(cfg, str(tmp_path / "ck2"), log=lambda s: None, enc=encoder())
    a = torch.load(tmp_path / "ck" / "heads.pt", weights_only=True)
    b = torch.load(tmp_path / "ck2" / "heads.pt", weights_only=True)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), "same seed, same checkpoint"
    assert (tmp_path / "ck" / "heads.pt").exists() and (tmp_path / "ck" / "config.json").exists()
    assert (tmp_path / "ck" / "heads.pt").stat().st_size < 25e6
    assert "exact_ground" in meta["heldout_label_metrics"]
    assert any(l.startswith("epoch 1/1") for l in lines)
    pol = EmbeddedPolicy(checkpoint=str(tmp_path / "ck"), encoder=encoder())
    g = pol.ground(scene_rgby(), "", pick_place(), 1, [], [], "a bit to the left")
    assert g.level in ("skill", "plan", "stop", "none")
    validate_plan(g.plan, scene_rgby())
