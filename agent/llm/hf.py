"""``hf`` policy: any local transformers causal language model as the robocorrect policy.

Point it at a model folder (anything ``AutoModelForCausalLM`` loads: Qwen2.5-Instruct, Llama-3, Phi-3,
SmolLM2, a fine-tune of your own), a GGUF file (:mod:`agent.llm.gguf`; needs the ``gguf`` package), a
folder holding one GGUF file, or a hub name already in the local cache::

    from agent.llm.hf import HFPolicy
    policy = HFPolicy(model="/models/Qwen2.5-1.5B-Instruct")              # cuda if available, else cpu
    policy = HFPolicy(model="/models/SmolLM2-135M-Instruct.Q4_1.gguf", threads=1)

or, through the factory, ``agent.factory.make_policy("hf", model=PATH)``, which checks every option.
Nothing is downloaded unless ``local_files_only=False``.

How it answers: the prompt of :mod:`agent.llm.prompt` is rendered with the tokenizer's chat template
when it has one (system turn merged into the user turn if the template refuses a system role),
otherwise as a plain prompt; ``force_prefix`` is appended where the answer starts. Generation is greedy
(``do_sample=False``) and stops as soon as the first JSON object is closed, or after ``max_new_tokens``.
``constrained``: ``"schema"`` (default) keeps every token inside the answer's grammar
(:func:`agent.llm.edits.edit_pattern` for edit answers), ``"json"`` inside one JSON object, ``"off"``
leaves the model free (:mod:`agent.llm.constrain`). The text then goes through :mod:`agent.llm.parse`
(keys, level, ``skills.schema.validate_plan``, level consistency, no do-nothing changes). Garbage,
unsafe or inconsistent output raises :class:`~agent.policy.PolicyError`; it is never executed.
``logits_processors`` is a factory called once per generation that returns extra
``transformers.LogitsProcessor`` objects; :class:`ForcedTextProcessor` forces an exact token sequence.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from agent.llm import parse, prompt
from agent.llm.base import LLMOptions, LLMPolicy
from agent.policy import PolicyError
from hardware import runtime

_DTYPES = ("float32", "float16", "bfloat16", "auto")
ADAPTER_EXAMPLES = 2  # retrieved examples per utterance with a LoRA adapter unless examples= says (best on the dev set: README)
CONSTRAINTS = ("schema", "json", "off")


@dataclass
class HFConfig:
    """Settings of :class:`HFPolicy` (see its docstring)."""

    model: str  # a model folder, a .gguf file (or a folder holding one .gguf) or a hub name in the local cache
    device: Optional[str] = None  # cpu / cuda / cuda:N; None = cuda if available, else cpu
    dtype: Optional[str] = None  # float32 / float16 / bfloat16 / auto; None = float32 on cpu, bfloat16 on cuda
    max_new_tokens: int = 96  # tokens per answer
    force_prefix: str = ""  # text the answer is forced to start with
    use_chat_template: Optional[bool] = None  # None = when the tokenizer has one
    local_files_only: bool = True  # a hub name is looked up in the local cache only
    trust_remote_code: bool = False
    constrained: str = "schema"  # schema (the answer's grammar) / json (any JSON object) / off
    threads: Optional[int] = None  # torch CPU threads; None = torch's choice
    adapter: Optional[str] = None  # a LoRA adapter folder of robocorrect train --lora (agent.llm.lora), merged in


class ForcedTextProcessor:
    """A ``LogitsProcessor`` that makes greedy generation emit ``token_ids`` exactly, then EOS.

    The prompt length is taken from the first call, so use a fresh instance per generation (the
    ``logits_processors`` factory of :class:`HFPolicy` is called once per generation).
    """

    def __init__(self, token_ids: Sequence[int], eos_token_id: int) -> None:
        self.token_ids = list(token_ids)
        self.eos_token_id = int(eos_token_id)
        self._prompt_len: Optional[int] = None

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        if self._prompt_len is None:
            self._prompt_len = int(input_ids.shape[1])
        pos = int(input_ids.shape[1]) - self._prompt_len
        tok = self.token_ids[pos] if pos < len(self.token_ids) else self.eos_token_id
        forced = torch.full_like(scores, float("-inf"))
        forced[:, tok] = 0.0
        return forced


class _FirstObjectDone:
    """Stopping criterion: the generated text (after ``prefix``) holds one complete JSON object."""

    def __init__(self, tokenizer: Any, prompt_len: int, prefix: str) -> None:
        self.tokenizer, self.prompt_len, self.prefix = tokenizer, prompt_len, prefix

    def __call__(self, input_ids: Any, scores: Any = None, **kwargs: Any) -> Any:
        import torch

        done = []
        for row in input_ids:
            text = self.prefix + self.tokenizer.decode(row[self.prompt_len:], skip_special_tokens=True)
            text = parse._THINK.sub("", text)
            done.append(parse.first_object_end(text) >= 0)
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


def pick_device(device: Optional[str] = None) -> str:
    """``device`` if given, else ``cuda`` when available, else ``cpu``."""
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def pick_dtype(dtype: Optional[str], device: str) -> Any:
    """A torch dtype: ``dtype`` by name, or float32 on cpu and bfloat16 (float16 without bf16 support) on cuda."""
    import torch

    if dtype is not None and dtype not in _DTYPES:
        raise PolicyError(f"unknown dtype {dtype!r}; choose one of {', '.join(_DTYPES)}")
    if dtype == "auto":
        return "auto"
    if dtype:
        return getattr(torch, dtype)
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


class HFPolicy(LLMPolicy):
    """A policy answered by a local transformers causal LM, greedy, validated.

    ``model``: a model folder, a ``.gguf`` file (or a folder holding one) or a cached hub name.
    ``device``: ``cuda`` if available else ``cpu`` when None. ``dtype``: ``float32`` / ``float16`` /
    ``bfloat16`` / ``auto``; None = float32 on cpu, bfloat16 on cuda. ``max_new_tokens``: generation
    budget per answer (None = 96 for edit answers, 512 for whole plans). ``force_prefix``: text the
    answer is forced to start with. ``use_chat_template``: None = when the tokenizer has one.
    ``local_files_only``: look a hub name up in the local cache only. ``adapter``: a LoRA adapter folder
    (``robocorrect train --lora``, :mod:`agent.llm.lora`) merged into the model; the prompt then takes the
    style it was trained on. ``constrained``: ``"schema"``,
    ``"json"`` or ``"off"`` (True / False = schema / off). ``threads``: torch CPU threads.
    ``logits_processors``: factory of extra LogitsProcessors per generation. ``examples``: retrieved
    examples per utterance (None = 4, or :data:`ADAPTER_EXAMPLES` with an adapter). ``answer``,
    ``kb``, ``kb_examples``: :class:`agent.llm.base.LLMOptions`. The model is loaded in the constructor;
    a missing or broken model raises :class:`PolicyError`.
    """

    name = "hf"

    def __init__(
        self,
        model: str,
        device: Optional[str] = None,
        dtype: Optional[str] = None,
        max_new_tokens: Optional[int] = None,
        force_prefix: str = "",
        use_chat_template: Optional[bool] = None,
        local_files_only: bool = True,
        trust_remote_code: bool = False,
        logits_processors: Optional[Callable[[], Sequence[Any]]] = None,
        constrained: Any = "schema",
        threads: Optional[int] = None,
        adapter: Optional[str] = None,
        answer: str = "edit",
        examples: Optional[int] = None,
        kb: Optional[str] = None,
        kb_examples: int = 2,
    ) -> None:
        n_examples = (ADAPTER_EXAMPLES if adapter else 4) if examples is None else int(examples)
        super().__init__(LLMOptions(answer, n_examples, kb, int(kb_examples)))
        if not model:
            raise PolicyError("the hf policy needs model=PATH_OR_HUB_NAME (a model folder, a .gguf file or a hub name)")
        if max_new_tokens is None:
            max_new_tokens = 96 if answer == "edit" else 512
        if max_new_tokens < 1:
            raise PolicyError(f"max_new_tokens must be at least 1, got {max_new_tokens}")
        if isinstance(constrained, bool):
            constrained = "schema" if constrained else "off"
        if constrained not in CONSTRAINTS:
            raise PolicyError(f"constrained={constrained!r}: choose one of {', '.join(CONSTRAINTS)}")
        self.config = HFConfig(str(model), device, dtype, int(max_new_tokens), force_prefix, use_chat_template,
                               bool(local_files_only), trust_remote_code, constrained, threads, adapter or None)
        self.logits_processors = logits_processors
        if threads:
            runtime.set_threads(max(1, int(threads)))
        self.device = pick_device(device)
        self.adapter_meta: dict[str, Any] = {}  # robocorrect_lora.json of the adapter, when one is given
        self.tokenizer, self.model = self._load()

    # --- loading -----------------------------------------------------------------------------------
    def _load(self) -> tuple[Any, Any]:
        from agent.llm import gguf

        c = self.config
        path = Path(c.model).expanduser()
        dtype = pick_dtype(c.dtype, self.device)
        if path.suffix.lower() == ".gguf" or (path.is_dir() and gguf.gguf_in_folder(path) is not None):
            tok, model = gguf.load(path if path.is_file() or path.suffix.lower() == ".gguf" else gguf.gguf_in_folder(path), dtype)
        else:
            tok, model = self._load_pretrained(path, dtype)
        if c.adapter:  # LoRA weights merged into the base; the prompt style the adapter was trained on
            from agent.llm.lora import attach

            model, self.edit_style, self.adapter_meta = attach(model, c.adapter)
        model.to(self.device)
        model.eval()
        return tok, model

    def _load_pretrained(self, path: Path, dtype: Any) -> tuple[Any, Any]:
        import transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer

        c = self.config
        is_dir = path.is_dir()
        looks_like_path = c.model.startswith((".", "/", "~")) or c.model.count("/") > 1 or "\\" in c.model
        if not is_dir and looks_like_path:
            raise PolicyError(f"no model folder or .gguf file at {c.model} (a hub name looks like 'org/name')")
        local_only = c.local_files_only or is_dir
        src = str(path) if is_dir else c.model
        major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
        dtype_kw = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"
        try:
            tok = AutoTokenizer.from_pretrained(src, local_files_only=local_only, trust_remote_code=c.trust_remote_code)
            model = AutoModelForCausalLM.from_pretrained(
                src, local_files_only=local_only, trust_remote_code=c.trust_remote_code, **{dtype_kw: dtype}
            )
        except Exception as e:  # missing files, unknown architecture, missing optional deps, bad weights
            from agent.llm.gguf import _first_cause

            where = "folder" if is_dir else ("hub name (only the local cache is used)" if local_only else "hub name")
            raise PolicyError(f"cannot load a causal LM from {where} {c.model!r}: {_first_cause(e)}") from e
        return tok, model

    # --- prompting ---------------------------------------------------------------------------------
    def render(self, messages: list[dict[str, str]]) -> tuple[str, bool]:
        """The prompt text for ``messages`` and whether it came from the chat template."""
        use = self.config.use_chat_template
        has_template = bool(getattr(self.tokenizer, "chat_template", None))
        if use is None:
            use = has_template
        if use and not has_template:
            raise PolicyError(f"use_chat_template=True but the tokenizer of {self.config.model!r} has no chat template")
        if not use:
            return prompt.to_plain_prompt(messages) + self.config.force_prefix, False
        try:
            text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        except Exception:  # some templates (e.g. Gemma) refuse a system turn: merge it into the user turn
            merged = [{"role": "user", "content": "\n\n".join(m["content"] for m in messages)}]
            try:
                text = self.tokenizer.apply_chat_template(merged, tokenize=False, add_generation_prompt=True)
            except Exception as e:
                raise PolicyError(f"the chat template of {self.config.model!r} failed: {e}") from e
        return str(text) + self.config.force_prefix, True

    def complete(self, messages: list[dict[str, str]], pattern: Optional[str] = None) -> str:
        text, templated = self.render(messages)
        return self.config.force_prefix + self._generate_text(text, add_special_tokens=not templated, pattern=pattern)

    # --- generation --------------------------------------------------------------------------------
    def _generate_text(self, prompt_text: str, add_special_tokens: bool = True, pattern: Optional[str] = None) -> str:
        """Greedy continuation of ``prompt_text`` (new text only, special tokens dropped).

        With ``constrained="schema"`` and a ``pattern``, every token keeps the text a prefix of a match of
        ``pattern``; with ``"json"`` (or no pattern), a prefix of one JSON object. Sets ``last_usage``.
        """
        import torch
        from transformers import LogitsProcessorList, StoppingCriteriaList

        tok, model, c = self.tokenizer, self.model, self.config
        enc = tok(prompt_text, return_tensors="pt", add_special_tokens=add_special_tokens)
        input_ids = enc["input_ids"].to(self.device)
        attention = enc.get("attention_mask")
        attention = attention.to(self.device) if attention is not None else torch.ones_like(input_ids)
        n = int(input_ids.shape[1])
        limit = getattr(model.config, "max_position_embeddings", None) or getattr(model.config, "n_positions", None)
        if limit and n + c.max_new_tokens > limit:
            raise PolicyError(
                f"the prompt is {n} tokens and max_new_tokens {c.max_new_tokens}, more than the model's {limit}-token context"
            )
        gc = copy.deepcopy(model.generation_config)
        gc.do_sample, gc.num_beams, gc.max_new_tokens = False, 1, c.max_new_tokens
        gc.temperature = gc.top_p = gc.top_k = None
        eos = tok.eos_token_id if tok.eos_token_id is not None else gc.eos_token_id
        if gc.eos_token_id is None:
            gc.eos_token_id = eos
        if gc.pad_token_id is None:
            gc.pad_token_id = tok.pad_token_id if tok.pad_token_id is not None else (eos[0] if isinstance(eos, list) else eos)
        processors = LogitsProcessorList(list(self.logits_processors()) if self.logits_processors else [])
        if c.constrained != "off":
            from agent.llm.constrain import JSONLogitsProcessor, RegexPrefix

            start = (lambda: RegexPrefix(pattern)) if (c.constrained == "schema" and pattern) else None
            processors.append(JSONLogitsProcessor(tok, prefix=c.force_prefix, start=start))
        stop = StoppingCriteriaList([_FirstObjectDone(tok, n, c.force_prefix)])
        try:
            with torch.no_grad():
                out = model.generate(
                    input_ids=input_ids, attention_mask=attention, generation_config=gc,
                    logits_processor=processors, stopping_criteria=stop,
                )
        except Exception as e:  # OOM, device errors, broken configs: no answer, never a guess
            raise PolicyError(f"generation with {c.model!r} failed: {type(e).__name__}: {e}") from e
        self.last_usage = {"prompt_tokens": n, "completion_tokens": int(out.shape[1]) - n}
        return tok.decode(out[0, n:], skip_special_tokens=True)
