"""agent.llm.hf: a real (tiny, random) transformers causal LM, loaded from a directory, generating end to end.

The model is built here from a config (Llama, 2 layers, 512-token byte-level BPE vocabulary trained on
the prompt text) and saved to a temporary directory; nothing is downloaded. Its own output is garbage
and must be rejected; a LogitsProcessor that forces the tokens of a chosen answer stands in for a
model that answers well, so the accepted path also runs through real tokenisation, generate() and
decoding.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

from agent.llm import prompt  # noqa: E402
from agent.llm.hf import ForcedTextProcessor, HFPolicy  # noqa: E402
from agent.policy import PolicyError  # noqa: E402
from skills.schema import validate_plan  # noqa: E402

SCENE = {
    "objects": [
        {"name": "red block", "kind": "block", "color": "red", "size": 0.04, "position": [0.5, 0.1, 0.02]},
        {"name": "green bowl", "kind": "bowl", "color": "green", "size": 0.16, "position": [0.55, -0.1, 0.03]},
    ]
}
TASK = "put the red block in the green bowl"
PLAN = [{"skill": "pick", "args": {"object": "red block"}}, {"skill": "place", "args": {"target": "green bowl"}}]
FULL = validate_plan(PLAN, SCENE)
OLD = {"constrained": "off"}  # these tests drive the whole-plan answer without a grammar
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def _build(path: Path, chat_template: str | None) -> Path:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=2000, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=["<eos>"])
    corpus = [m["content"] for m in prompt.ground_messages(SCENE, TASK, FULL, 1, [{"utterance": "move left", "step": 1}], [], "left")]
    tok.train_from_iterator(corpus + [prompt.system_plan(), json.dumps(FULL)], trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<eos>", pad_token="<eos>")
    if chat_template:
        fast.chat_template = chat_template
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=2, max_position_embeddings=4096, eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id, bos_token_id=None,
    )
    LlamaForCausalLM(cfg).save_pretrained(path)
    fast.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return _build(tmp_path_factory.mktemp("tiny_lm"), None)


@pytest.fixture(scope="module")
def chat_model_dir(tmp_path_factory) -> Path:
    return _build(tmp_path_factory.mktemp("tiny_chat_lm"), CHAT_TEMPLATE)


@pytest.fixture(scope="module")
def policy(model_dir) -> HFPolicy:
    return HFPolicy(model=str(model_dir), answer="plan", **OLD, max_new_tokens=24)


def _forcing(policy: HFPolicy, text: str):
    ids = policy.tokenizer.encode(text, add_special_tokens=False)
    return lambda: [ForcedTextProcessor(ids, policy.tokenizer.eos_token_id)]


def _ground(policy: HFPolicy, utterance: str = "a bit to the left"):
    return policy.ground(SCENE, TASK, PLAN, 1, [{"utterance": "move left", "step": 1}], [], utterance)


def test_loads_from_directory_on_the_right_device(policy):
    assert policy.device == ("cuda" if torch.cuda.is_available() else "cpu")
    if policy.device == "cpu":
        assert next(policy.model.parameters()).dtype == torch.float32
    assert not policy.model.training


def test_garbage_generation_is_rejected_and_nothing_changes(policy):
    before = copy.deepcopy(PLAN)
    with pytest.raises(PolicyError, match="model output"):
        _ground(policy)
    assert PLAN == before
    assert policy.last_text  # the model really generated something, and it was refused
    assert "a bit to the left" in policy.last_messages[1]["content"]
    with pytest.raises(PolicyError, match="model output"):
        policy.plan(SCENE, TASK)


def test_plain_prompt_without_chat_template(policy):
    text, templated = policy.render(prompt.plan_messages(SCENE, TASK))
    assert not templated and text.endswith("### Answer (JSON)\n")


def test_chat_template_used_when_present(chat_model_dir):
    p = HFPolicy(model=str(chat_model_dir), answer="plan", **OLD, max_new_tokens=16, force_prefix="{")
    text, templated = p.render(prompt.plan_messages(SCENE, TASK))
    assert templated and text.startswith("<|system|>\nYou turn a task") and text.endswith("<|assistant|>\n{")
    with pytest.raises(PolicyError):
        p.plan(SCENE, TASK)
    assert p.last_text.startswith("{")
    # a template that refuses a system turn (as Gemma's does) gets it merged into the user turn
    p.tokenizer.chat_template = (
        "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('no system role') }}{% endif %}"
        "<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}<|assistant|>\n"
    )
    text, templated = p.render(prompt.plan_messages(SCENE, TASK))
    assert templated and text.startswith("<|user|>\nYou turn a task") and "Task: \"put the red block" in text


def test_forced_valid_answer_is_accepted_and_validated(model_dir):
    after = copy.deepcopy(PLAN)  # defaults left out: the parser fills them
    after[1]["args"]["offset"] = [0.0, 0.012, 0.0]
    answer = json.dumps({"level": "skill", "plan": after})
    p = HFPolicy(model=str(model_dir), answer="plan", **OLD, max_new_tokens=200)
    p.logits_processors = _forcing(p, answer)
    g = _ground(p)
    assert p.last_text == answer
    assert g.level == "skill" and g.plan == validate_plan(after, SCENE) and g.changes == ["step 1 place: offset y +1.2 cm"]
    assert g.parsed["backend"] == "hf" and g.parsed["raw"] == answer


def test_forced_plan_fills_defaults(model_dir):
    p = HFPolicy(model=str(model_dir), answer="plan", **OLD, max_new_tokens=200)
    p.logits_processors = _forcing(p, '{"plan": [{"skill": "pick", "args": {"object": "red block"}}, {"skill": "place", "args": {"target": "green bowl"}}]}')
    assert p.plan(SCENE, TASK) == FULL


@pytest.mark.parametrize(
    "plan_after, level, msg",
    [
        ([PLAN[0], {"skill": "place", "args": {"target": "green bowl", "offset": [0, 0.5, 0]}}], "skill", "outside the safe range"),
        ([PLAN[0], {"skill": "place", "args": {"target": "purple bowl"}}], "plan", "there is no purple bowl; I see: red block, green bowl"),
        ([PLAN[0], {"skill": "place", "args": {"target": "green bowl", "offset": [0, 0.01, 0]}}], "stop", "level 'stop' but changed the plan"),
    ],
)
def test_forced_unsafe_answers_are_rejected(model_dir, plan_after, level, msg):
    p = HFPolicy(model=str(model_dir), answer="plan", **OLD, max_new_tokens=200)
    p.logits_processors = _forcing(p, json.dumps({"level": level, "plan": plan_after}))
    with pytest.raises(PolicyError, match=msg):
        _ground(p)


def test_generation_stops_after_the_first_json_object(model_dir):
    answer = json.dumps({"level": "stop", "plan": PLAN})
    p = HFPolicy(model=str(model_dir), answer="plan", **OLD, max_new_tokens=200, force_prefix="{")
    p.logits_processors = _forcing(p, answer[1:] + ' and then {"level": "none"} more text')
    g = _ground(p, "stop!")
    assert g.level == "stop" and g.plan == PLAN
    assert p.last_text.startswith(answer) and len(p.last_text) <= len(answer) + 4


def test_missing_or_broken_model_is_a_clear_error(tmp_path):
    with pytest.raises(PolicyError, match="no model folder or .gguf file at /nonexistent/model"):
        HFPolicy(model="/nonexistent/model")
    (tmp_path / "empty").mkdir()
    with pytest.raises(PolicyError, match="cannot load a causal LM from folder"):
        HFPolicy(model=str(tmp_path / "empty"))
    with pytest.raises(PolicyError, match="unknown dtype"):
        HFPolicy(model=str(tmp_path / "empty"), dtype="float8")


def test_prompt_longer_than_context_is_refused(model_dir):
    p = HFPolicy(model=str(model_dir), answer="plan", **OLD, max_new_tokens=4000)
    with pytest.raises(PolicyError, match="4096-token context"):
        _ground(p)


def test_bad_step_is_refused_before_generation(policy):
    with pytest.raises(PolicyError, match="step 5 is not a step of the plan"):
        policy.ground(SCENE, TASK, PLAN, 5, [], [], "left")


def test_constrained_decoding_keeps_random_model_output_json(model_dir):
    from agent.llm.constrain import JSONPrefix

    p = HFPolicy(model=str(model_dir), answer="plan", max_new_tokens=40, constrained="json")
    with pytest.raises(PolicyError):  # syntactically JSON (or an unfinished prefix of it), still not a valid answer
        _ground(p)
    assert p.last_text.lstrip().startswith("{")
    assert JSONPrefix().feed(p.last_text)


def test_constrained_decoding_lets_a_valid_answer_through(model_dir):
    answer = json.dumps({"level": "none", "plan": PLAN})
    p = HFPolicy(model=str(model_dir), answer="plan", max_new_tokens=120, constrained="json", force_prefix="{")
    p.logits_processors = _forcing(p, answer[1:])
    g = _ground(p, "great")
    assert g.level == "none" and p.last_text == answer


def test_schema_constrained_random_model_stays_inside_the_edit_grammar(model_dir):
    import regex

    from agent.llm.edits import edit_pattern

    p = HFPolicy(model=str(model_dir), max_new_tokens=60, examples=2)  # defaults: answer=edit, constrained=schema
    try:
        _ground(p)
    except PolicyError:
        pass  # a random model's edit may be unfinished or change nothing; it must still be grammar
    assert p.last_text and regex.compile(edit_pattern(SCENE)).fullmatch(p.last_text, partial=True), p.last_text
    assert p.last_usage["prompt_tokens"] > 0 and 0 < p.last_usage["completion_tokens"] <= 60
    roles = [m["role"] for m in p.last_messages]
    assert roles[0] == "system" and roles[1:5] == ["user", "assistant", "user", "assistant"] and roles[-1] == "user"


def test_forced_edit_is_applied_and_validated(model_dir):
    edit = '{"level": "skill", "changes": [{"arg": "offset", "op": "add", "value": [0, 0.012, 0]}]}'
    p = HFPolicy(model=str(model_dir), max_new_tokens=80, examples=0)
    p.logits_processors = _forcing(p, edit)
    g = _ground(p)
    assert p.last_text == edit and g.level == "skill" and g.changes == ["step 1 place: offset y +1.2 cm"]
