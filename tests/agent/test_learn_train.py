"""Finetuning (single process and 2 CPU processes with gloo), the promotion gate and the policy registry."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.learn.data import FeatureSet
from agent.learn.registry import SHIPPED, Registry, shipped_checkpoint

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def feats(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, FeatureSet]:
    from agent.grounder.corpus import generate

    ex = generate(48, 12, 5, "test")
    fs = FeatureSet.encode(ex, [1] * len(ex), {"test": True}, log=lambda s: None)
    p = tmp_path_factory.mktemp("feats") / "f.pt"
    fs.save(p)
    return p, fs


def test_finetune_writes_a_loadable_checkpoint_with_provenance(feats, tmp_path: Path) -> None:
    from agent.grounder.model import load_checkpoint
    from agent.learn.finetune import FinetuneConfig, train
    from safetensors.torch import load_file

    out = tmp_path / "cand"
    res = train(FinetuneConfig(data=str(feats[0]), out=str(out), base=str(shipped_checkpoint()), epochs=1, batch=16, progress=False))
    assert res["steps"] == 4 and res["device"] == "cpu" and res["examples_per_s"] > 0
    net, meta = load_checkpoint(str(out))
    assert meta["finetune"]["base"] == str(shipped_checkpoint()) and len(meta["finetune"]["data_sha256"]) == 64
    sd = load_file(str(out / "model.safetensors"))
    assert set(sd) == set(net.state_dict())
    assert list((out / "tb").iterdir())  # TensorBoard event file


def test_finetune_changes_only_the_argument_heads(feats, tmp_path: Path) -> None:
    import torch

    from agent.grounder.model import load_checkpoint
    from agent.learn.finetune import TRAINED_HEADS, FinetuneConfig, train

    out = tmp_path / "args"
    train(FinetuneConfig(data=str(feats[0]), out=str(out), base=str(shipped_checkpoint()), epochs=1, batch=16, lr=1e-3,
                         progress=False, tensorboard=False))
    base, _ = load_checkpoint(str(shipped_checkpoint()))
    cand, _ = load_checkpoint(str(out))
    b, c = base.state_dict(), cand.state_dict()
    names = base.class_names
    for k in b:
        if k == "queries" or k.startswith("cls_fused."):
            for i, head in enumerate(names):
                same = torch.equal(b[k][i], c[k][i])
                assert same != (head in TRAINED_HEADS) or (k.startswith("cls_fused.b") and same), (k, head)
        else:  # shared layers, pointer slots, set head: as the base has them
            assert torch.equal(b[k], c[k]), k


def test_two_cpu_processes_with_gloo(feats, tmp_path: Path) -> None:
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    p = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone", "-m", "agent.learn.finetune",
                        "--data", str(feats[0]), "--out", str(out), "--device", "cpu", "--epochs", "1", "--batch", "8",
                        "--no-progress", "--no-tensorboard"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert p.returncode == 0, p.stderr[-2000:]
    res = json.loads(p.stdout.strip().splitlines()[-1])
    assert res["world_size"] == 2 and res["steps"] == 4  # 60 examples / 2 ranks / batch 8
    assert (out / "heads.pt").exists() and (out / "model.safetensors").exists()


def test_gate_refuses_a_worse_checkpoint(feats, tmp_path: Path) -> None:
    import torch

    from agent.grounder.model import GrounderNet, NetConfig, save_checkpoint
    from agent.learn.gate import GateConfig, judge

    torch.manual_seed(0)
    worse = tmp_path / "worse"
    save_checkpoint(GrounderNet(NetConfig(fused=True)), str(worse), {})  # untrained heads
    fs = feats[1]
    held, reg = fs.subset(list(range(0, 30))), fs.subset(list(range(30, len(fs))))
    rep = judge(str(shipped_checkpoint()), str(worse), held, reg, GateConfig(dev=""), log=lambda s: None)
    assert not rep.accepted and rep.heldout_candidate < rep.heldout_active
    assert any("not better" in r for r in rep.reasons) and any("flips" in r for r in rep.reasons)
    same = judge(str(shipped_checkpoint()), str(shipped_checkpoint()), held, reg, GateConfig(dev=""), log=lambda s: None)
    assert not same.accepted and same.flips == 0  # equal is not better


def test_registry_promote_use_rollback_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from agent.cli import main

    reg = Registry(tmp_path / "pol")
    assert reg.active() == SHIPPED and reg.active_checkpoint() == shipped_checkpoint()
    reg.add("r001", tmp_path / "c1", {"base": SHIPPED})
    reg.add("r002", tmp_path / "c2", {"base": "r001"})
    reg.promote("r001")
    reg.promote("r002")
    assert reg.active() == "r002" and reg.active_checkpoint() == (tmp_path / "c2").resolve()
    assert reg.rollback() == "r001" and reg.active() == "r001"
    assert main(["policy", "--registry", str(tmp_path / "pol"), "use", "shipped"]) == 0
    assert reg.active() == SHIPPED
    assert main(["policy", "--registry", str(tmp_path / "pol"), "rollback"]) == 0
    assert reg.active() == "r001"
    assert main(["policy", "--registry", str(tmp_path / "pol"), "list"]) == 0
    out = capsys.readouterr().out
    assert "* r001" in out and "rollback" in out and "promote" in out
    assert main(["policy", "--registry", str(tmp_path / "pol"), "use", "nope"]) == 2
    assert "error: no policy 'nope'" in capsys.readouterr().err
    empty = tmp_path / "empty"
    assert main(["policy", "--registry", str(empty), "rollback"]) == 2
    assert not empty.exists()  # a refused command creates nothing


def test_bench_train_json_last_line(feats, capsys: pytest.CaptureFixture[str]) -> None:
    from agent.cli import main

    assert main(["bench", "train", "--features", str(feats[0]), "--steps", "2", "--warmup", "1", "--batch", "8", "--json"]) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert res["device"] == "cpu" and res["batch_size"] == 8 and res["steps"] == 2 and res["examples_per_s"] > 0
    assert main(["bench", "train", "--steps", "0"]) == 2


def test_retrain_without_episodes_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from agent.cli import main
    from memory.episodes import EpisodeLog

    assert main(["retrain", "--log", str(tmp_path / "missing"), "--registry", str(tmp_path / "pol")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and not (tmp_path / "missing").exists()
    EpisodeLog(tmp_path / "empty").close()
    assert main(["retrain", "--log", str(tmp_path / "empty"), "--registry", str(tmp_path / "pol")]) == 1
    assert "nothing to learn" in capsys.readouterr().err
    assert not (tmp_path / "pol" / "registry.json").exists()
    assert main(["retrain"]) == 2  # no --log: a usage error


def test_held_out_slice_ignores_the_time_stamp_of_an_episode_id():
    """A benchmark run again (new time stamps, same tasks and seeds) holds out the same episodes."""
    from agent.learn.data import held_out

    ids = [f"s0-nomem-t{i}-{i * 7:06d}" for i in range(200)]
    first = [held_out("20261130-120000-" + e, 0.2) for e in ids]
    again = [held_out("20261201-093015-" + e, 0.2) for e in ids]
    assert first == again
    assert 0.1 < sum(first) / len(first) < 0.3


def test_held_out_slices_are_disjoint_and_slice_0_is_the_gates():
    from agent.learn.data import held_out, n_folds

    ids = [f"20261201-093015-s1-nomem-t{i}-{i * 13:06d}" for i in range(300)]
    assert n_folds(0.2) == 5 and n_folds(0.25) == 4 and n_folds(0.3) == 3
    for e in ids:
        assert sum(held_out(e, 0.2, k) for k in range(5)) == 1  # every episode in exactly one slice
        assert held_out(e, 0.2) == held_out(e, 0.2, 0)
    assert all(sum(held_out(e, 0.3, k) for k in range(3)) <= 1 for e in ids)  # 0.3 x 3 leaves a tenth in none


def _episodes(n: int) -> list[dict]:
    """``n`` hand-built ended episodes, each with one correction kept and followed by success (hindsight: kept)."""
    import copy

    scene = {"objects": [{"name": "red block", "kind": "block", "color": "red", "size": 0.04, "position": [0.5, 0.0, 0.02]},
                         {"name": "green bowl", "kind": "bowl", "color": "green", "size": 0.16, "position": [0.5, -0.2, 0.0]}]}
    plan = [{"skill": "pick", "args": {"object": "red block"}}, {"skill": "place", "args": {"target": "green bowl"}}]
    after = copy.deepcopy(plan)
    after[1]["args"]["offset"] = [0.0, 0.03, 0.0]
    said = ["a skosh to port", "ease her port", "port a touch", "over to port"]
    out = []
    for i in range(n):
        c = {"utterance": said[i % len(said)], "step": 1, "level": "skill", "before": plan, "after": after, "changes": ["offset"],
             "parsed": {"level": "skill", "signed": {"y": "+m"}, "kind": "correction"}, "t": 2.0}
        out.append({"id": f"20261201-100000-ep{i:03d}", "task": "put the red block in the green bowl", "scene": scene,
                    "initial_plan": plan, "final_plan": after, "success": True, "status": "success", "corrections": [c],
                    "utterances": [], "steps": [{"index": 0, "call": plan[0], "outcome": {"success": True}, "t": 1.0},
                                                {"index": 1, "call": after[1], "outcome": {"success": True}, "t": 10.0}]})
    return out


def test_cross_check_reads_each_other_slice_with_a_model_retrained_without_it(tmp_path: Path) -> None:
    """Folds 1..4: a finetune without the fold's episodes reads the fold's utterances; every episode outside slice 0
    is read once, slice 0 never, and the scratch checkpoints are gone afterwards."""
    from agent.learn.data import FeatureSet, held_out, replay_examples
    from agent.learn.hindsight import examples_from_records
    from agent.learn.retrain import RetrainConfig, _data_config, cross_check

    recs = _episodes(30)
    cfg = RetrainConfig(logs=["unused"], epochs=1, batch=16, replay_ground=16, replay_plan=4, lexicon=0, frames=0, cross=4)
    replay = replay_examples(_data_config(cfg))
    rf = FeatureSet.encode(replay, [1] * len(replay), {}, log=lambda s: None)
    res = cross_check(recs, str(shipped_checkpoint()), cfg, tmp_path / "cross", rf, log=lambda s: None)
    outside = [r for r in recs if not held_out(r["id"], 0.2, 0)]
    assert len(res["active_ok"]) == len(res["candidate_ok"]) == len(examples_from_records(outside)[0])
    assert [f["fold"] for f in res["folds"]] == [1, 2, 3, 4]
    assert sum(f["n"] for f in res["folds"]) == len(res["active_ok"])
    assert not (tmp_path / "cross").exists() or not any((tmp_path / "cross").iterdir())
    assert cross_check(recs, str(shipped_checkpoint()), RetrainConfig(logs=["x"], cross=0), tmp_path / "c0", rf)["folds"] == []
