"""agent.llm.lora: LoRA training data, a tiny CPU training run, the adapter in the ``hf`` backend.

The training run uses a tiny random Llama (2 layers, a byte-level BPE vocabulary trained on the prompts)
built here, so it takes seconds; the same code trains SmolLM2 (``robocorrect train --lora``, measured in
the README). What a random model answers is not asserted: every answer is a validated grounding or a
PolicyError, as for any backend.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.cli import main
from agent.llm import edits, lora_data, parse, prompt
from agent.llm.lora import LoRAConfig, LoRAError, read_meta
from agent.policy import PolicyError
from hardware.errors import UsageError
from skills.schema import validate_plan

ROOT = Path(__file__).resolve().parents[2]
SCENE = {"objects": [
    {"name": "red block", "kind": "block", "color": "red", "size": 0.04, "position": [0.5, 0.1, 0.02]},
    {"name": "green bowl", "kind": "bowl", "color": "green", "size": 0.16, "position": [0.55, -0.1, 0.03]},
]}
TASK = "put the red block in the green bowl"
PLAN = [{"skill": "pick", "args": {"object": "red block"}}, {"skill": "place", "args": {"target": "green bowl"}}]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<eos>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


# --- data -----------------------------------------------------------------------------------------------
def test_training_answers_are_answers_the_backend_accepts_and_prompts_are_short():
    report = lora_data.DataReport()
    raw = lora_data.corpus_examples(120, seed=3, report=report)
    exs = lora_data.build(raw, examples_fraction=0.5, k=2, seed=0, report=report)
    assert report.corpus == 120 and len(exs) >= 110 and report.with_examples > 20
    levels = set()
    for r, ex in zip([r for r in raw if lora_data._answer(r) is not None and lora_data.valid(r, lora_data._answer(r))], exs):
        assert ex.utterance == r["utterance"]
        plan = validate_plan(r["plan"], r["scene"])
        step = max(0, min(int(r["step"]), len(plan) - 1))
        g = parse.parse_grounding(json.dumps(edits.to_plan_answer(ex.answer, plan, step)), r["scene"], r["plan"])
        levels.add(g.level)
        assert ex.messages[0]["content"] == prompt.SYSTEM_LORA
        assert " at [" not in ex.messages[-1]["content"]  # lora-v1: object names only
        assert not any(m["content"].endswith(f'"{ex.utterance}" ->') for m in ex.messages[1:-1])  # never shown its own answer
    assert {"skill", "plan", "stop", "none"} <= levels


def test_no_evaluation_utterance_in_the_training_data():
    """The project's leak rule (tests/agent/test_grounder_leak.py): no evaluation utterance of 3+ words, folded."""
    from agent.grounder import phrases

    shared = ROOT.parent / "shared"
    evals = phrases.evaluation_utterances(shared if (shared / "eval").is_dir() else None, [ROOT / "tests" / "data" / "real_corrections.jsonl"])
    assert evals
    raw = lora_data.corpus_examples(1500, seed=0, report=lora_data.DataReport())
    said = {phrases.fold(r["utterance"]) for r in raw} | {phrases.fold(h["utterance"]) for r in raw for h in r.get("history", [])}
    assert not evals & said


def _log_kept_correction(root: Path) -> None:
    from memory.episodes import EpisodeLog

    plan = validate_plan(PLAN, SCENE)
    after = json.loads(json.dumps(plan))
    after[1]["args"]["offset"] = [0.0, 0.03, 0.0]
    with EpisodeLog(root) as log:
        eid = log.begin(TASK, SCENE, "embedded", plan, plan)
        log.log_step(eid, 0, plan[0], {"success": True}, t=1.0)
        log.log_correction(eid, {"utterance": "scoot it leftish", "step": 1, "level": "skill", "before": plan, "after": after,
                                 "changes": ["offset"], "parsed": {"level": "skill", "signed": {"y": "+m"}, "kind": "correction"}, "t": 2.0})
        log.log_step(eid, 1, after[1], {"success": True}, t=3.0)
        log.end(eid, True, after)


def test_hindsight_examples_from_an_episode_log(tmp_path: Path):
    _log_kept_correction(tmp_path / "log")
    report = lora_data.DataReport()
    raw = lora_data.hindsight_examples([str(tmp_path / "log")], report)
    assert report.episodes == 1 and report.hindsight == {"kept": 1}
    assert report.hindsight_left_out == {"task_to_plan": 1}
    assert raw[0]["source"] == "hindsight:kept"
    (ex,) = lora_data.build(raw, 0.0, 0, 0, report)
    assert ex.utterance == "scoot it leftish"
    assert ex.answer == {"level": "skill", "changes": [{"arg": "offset", "op": "add", "value": [0.0, 0.03, 0.0]}]}


def test_missing_episode_log_is_an_error_and_creates_nothing(tmp_path: Path):
    from hardware.errors import RobocorrectError

    with pytest.raises(RobocorrectError):
        lora_data.hindsight_examples([str(tmp_path / "nope")], lora_data.DataReport())
    assert not (tmp_path / "nope").exists()


def test_config_is_checked():
    with pytest.raises(UsageError):
        LoRAConfig(out="x", steps=0)
    with pytest.raises(UsageError):
        LoRAConfig(out="x", examples_fraction=2.0)


# --- a tiny training run and the adapter in the hf backend -----------------------------------------------
@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    torch = pytest.importorskip("torch")
    pytest.importorskip("peft")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    path = tmp_path_factory.mktemp("tiny")
    raw = lora_data.corpus_examples(60, seed=1, report=lora_data.DataReport())
    texts = [m["content"] for ex in lora_data.build(raw, 0.3, 2, 0, lora_data.DataReport()) for m in ex.messages]
    texts += [json.dumps(lora_data._answer(r)) for r in raw]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=1500, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                                       special_tokens=["<eos>"]))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<eos>", pad_token="<eos>")
    fast.chat_template = CHAT_TEMPLATE
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                      num_key_value_heads=2, max_position_embeddings=2048, eos_token_id=fast.eos_token_id,
                      pad_token_id=fast.pad_token_id, bos_token_id=None)
    LlamaForCausalLM(cfg).save_pretrained(path)
    fast.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def adapter(tiny_model: Path, tmp_path_factory) -> Path:
    logs = tmp_path_factory.mktemp("logs")
    _log_kept_correction(logs / "log")
    out = tmp_path_factory.mktemp("runs") / "adapter"
    rc = main(["train", "--lora", "--out", str(out), "--lora-model", str(tiny_model), "--steps", "4", "--batch-size", "4",
               "--n-corpus", "40", "--episodes", str(logs / "log"), "--device", "cpu", "--threads", "1"])
    assert rc == 0
    return out


def test_training_saves_adapter_config_and_data_provenance(adapter: Path, capsys):
    assert (adapter / "adapter_model.safetensors").is_file() and (adapter / "adapter_config.json").is_file()
    meta = read_meta(adapter)
    assert meta["style"] == "lora-v1" and meta["device"] == "cpu" and meta["config"]["steps"] == 4
    assert meta["base"]["kind"] == "folder" and meta["base"]["model_type"] == "llama" and len(meta["base"]["sha256"]) == 64
    d = meta["data"]
    assert d["corpus_split"] == "train" and d["hindsight"] == {"kept": 1} and d["episodes"] == 1
    rows = [json.loads(line) for line in (adapter / "data.jsonl").read_text().splitlines()]
    assert len(rows) == d["sequences"] and sum(r["source"] == "hindsight:kept" for r in rows) == 4  # log_weight 4
    assert meta["train_seconds"] > 0 and meta["final_loss"] > 0
    assert meta["command"].startswith("robocorrect train --lora --out ") and "--steps 4" in meta["command"]


def test_adapter_in_the_hf_backend_prompts_in_its_style(adapter: Path, tiny_model: Path):
    from agent.factory import make_policy

    pol = make_policy("hf", model=str(tiny_model), adapter=str(adapter), examples=0, max_new_tokens=24, threads=1)
    assert pol.edit_style.name == "lora-v1" and pol.adapter_meta["style"] == "lora-v1"
    try:
        g = pol.ground(SCENE, TASK, PLAN, 1, [], [], "a bit to the left")
        assert g.level in ("skill", "plan", "stop", "none")
    except PolicyError:
        pass  # a random model's answer may be rejected; it is never executed
    assert pol.last_messages[0]["content"] == prompt.SYSTEM_LORA and " at [" not in pol.last_messages[-1]["content"]


def test_adapter_errors(adapter: Path, tiny_model: Path, tmp_path: Path):
    from agent.llm.hf import HFPolicy
    from agent.llm.lora import attach

    with pytest.raises(LoRAError, match="no LoRA adapter"):
        HFPolicy(model=str(tiny_model), adapter=str(tmp_path))
    meta = json.loads((adapter / "robocorrect_lora.json").read_text())
    other = tmp_path / "other"
    other.mkdir()
    for f in adapter.iterdir():
        (other / f.name).write_bytes(f.read_bytes())
    meta["base"]["hidden_size"] = 576
    (other / "robocorrect_lora.json").write_text(json.dumps(meta))
    from transformers import AutoModelForCausalLM

    with pytest.raises(LoRAError, match="another base model"):
        attach(AutoModelForCausalLM.from_pretrained(str(tiny_model)), other)


def test_cli_refuses_a_used_out_folder_and_the_shipped_checkpoint(adapter: Path, tiny_model: Path, capsys):
    before = sorted(p.name for p in adapter.iterdir())
    assert main(["train", "--lora", "--out", str(adapter), "--lora-model", str(tiny_model), "--steps", "1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "not an empty folder" in err[0]
    assert sorted(p.name for p in adapter.iterdir()) == before
    assert main(["train", "--lora", "--steps", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--lora needs its own --out" in err[0]


def test_training_data_needs_neither_pybullet_nor_faiss():
    """The GPU machine has torch, transformers and peft but neither pybullet nor faiss."""
    import subprocess
    import sys

    code = ("import sys\nfor m in ('pybullet', 'faiss', 'cv2'): sys.modules[m] = None\n"
            "from agent.llm import lora, lora_cli, lora_data\nimport agent.train\n"
            "r = lora_data.DataReport()\nexs = lora_data.build(lora_data.corpus_examples(10, 0, r), 0.5, 2, 0, r)\n"
            "assert len(exs) == 10 and 'torch' not in sys.modules\n")
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
