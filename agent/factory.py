"""Policies by name: ``make_policy("embedded")`` (default, offline, CPU), ``"hf"``, ``"openai"``.

Implementations are imported lazily, so asking for one never loads the others. Every option a policy
takes is declared once in :data:`OPTIONS` (name, type, help); :func:`make_policy` and the CLI's
``--policy-arg KEY=VALUE`` both check against it, so a missing or misspelt option is one
:class:`hardware.errors.UsageError` naming the options there are, and ``--help`` lists them
(:func:`policy_help`).

    from agent.factory import make_policy
    policy = make_policy()                                     # the learned embedded policy
    policy = make_policy("embedded", checkpoint="active")      # the registry's active checkpoint (agent.learn.registry)
    policy = make_policy("hf", model="/path/to/causal-lm")     # agent.llm.hf.HFPolicy (folder, .gguf or hub name)
    policy = make_policy("openai", base_url=..., model=...)    # agent.llm.openai.OpenAIPolicy
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Optional

from agent.policy import Policy
from hardware.errors import UsageError

POLICIES = ("embedded", "hf", "openai")


@dataclass(frozen=True)
class Option:
    """One keyword option of a policy: ``kind`` is 'str', 'int', 'float', 'bool' or 'str|bool'."""

    name: str
    kind: str
    help: str
    required: bool = False
    choices: tuple[str, ...] = ()


_LLM_SHARED = (
    Option("answer", "str", "what the model writes: 'edit' (default; a short edit of the plan) or 'plan' (the whole plan)", choices=("edit", "plan")),
    Option("examples", "int", "few-shot examples retrieved from the training corpus per utterance (default 4, 2 with an hf adapter=; 0 = zero-shot)"),
    Option("kb", "str", "knowledge-base folder whose entries nearest to the utterance are added as examples (default none)"),
    Option("kb_examples", "int", "examples taken from kb= per utterance (default 2)"),
)

OPTIONS: dict[str, tuple[Option, ...]] = {
    "embedded": (
        Option("checkpoint", "str", "checkpoint folder, or 'active' for the policy registry's active one (default: the one shipped in agent/checkpoints)"),
        Option("threads", "int", "torch threads (default 1)"),
    ),
    "hf": (
        Option("model", "str", "a model folder, a .gguf file (or a folder holding one) or a hub name in the local cache; nothing is downloaded", required=True),
        Option("device", "str", "cpu, cuda, cuda:1 ... (default: cuda if available, else cpu)"),
        Option("dtype", "str", "float32, float16, bfloat16 or auto (default float32 on cpu, bfloat16 on cuda)", choices=("float32", "float16", "bfloat16", "auto")),
        Option("max_new_tokens", "int", "generation budget per answer (default 96 for answer=edit, 512 for answer=plan)"),
        Option("constrained", "str|bool", "decoding kept inside 'schema' (default: the answer's grammar), 'json' (any JSON object) or 'off'", choices=("schema", "json", "off")),
        Option("force_prefix", "str", "text the answer is forced to start with, e.g. '{' (default none)"),
        Option("use_chat_template", "bool", "render with the tokenizer's chat template (default: when it has one)"),
        Option("local_files_only", "bool", "look a hub name up in the local cache only (default true; false lets transformers download)"),
        Option("trust_remote_code", "bool", "allow a model folder's own code (default false)"),
        Option("threads", "int", "torch CPU threads (default: torch's choice)"),
        Option("adapter", "str", "a LoRA adapter folder made by robocorrect train --lora, merged into model= (default none)"),
        *_LLM_SHARED,
    ),
    "openai": (
        Option("base_url", "str", "server URL, e.g. http://127.0.0.1:8000/v1 (default $ROBOCORRECT_OPENAI_BASE_URL, $OPENAI_BASE_URL, else api.openai.com)"),
        Option("model", "str", "the server's model name (default $ROBOCORRECT_OPENAI_MODEL; required one way or the other)"),
        Option("api_key", "str", "bearer token (default $ROBOCORRECT_OPENAI_API_KEY, $OPENAI_API_KEY; local servers need none)"),
        Option("timeout", "float", "seconds per request (default 60)"),
        Option("json_mode", "bool", "send response_format json_object (default true; dropped if the server refuses it)"),
        Option("max_tokens", "int", "answer budget (default 96 for answer=edit, 1024 for answer=plan)"),
        Option("temperature", "float", "sampling temperature (default 0: greedy)"),
        *_LLM_SHARED,
    ),
}


def _key(name: str) -> str:
    return (name or "embedded").strip().lower()


def _coerce(policy: str, opt: Option, value: Any) -> Any:
    """``value`` (a string from the command line, or already typed) as ``opt.kind``; UsageError if it is not one."""
    where = f"--policy {policy} --policy-arg {opt.name}="
    kind = opt.kind
    if isinstance(value, str):
        v = value.strip()
        low = v.lower()
        if kind in ("bool", "str|bool") and low in ("true", "false", "yes", "no", "1", "0", "on", "off"):
            if kind == "bool" or low not in ("on", "off"):
                value = low in ("true", "yes", "1", "on")
        elif kind == "bool":
            raise UsageError(f"{where}{value} is not true or false")
        elif kind == "int":
            try:
                value = int(v)
            except ValueError:
                raise UsageError(f"{where}{value} is not a whole number") from None
        elif kind == "float":
            try:
                value = float(v)
            except ValueError:
                raise UsageError(f"{where}{value} is not a number") from None
    elif kind == "int" and isinstance(value, float) and value.is_integer():
        value = int(value)
    elif kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    elif kind == "str" and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    ok = {"str": isinstance(value, str), "int": isinstance(value, int) and not isinstance(value, bool),
          "float": isinstance(value, float), "bool": isinstance(value, bool),
          "str|bool": isinstance(value, (str, bool))}[kind]
    if not ok:
        raise UsageError(f"{where}{value!r}: expected {kind}")
    if opt.choices and isinstance(value, str) and value not in opt.choices:
        raise UsageError(f"{where}{value} is not one of {', '.join(opt.choices)}")
    return value


def check_options(name: str, cfg: dict[str, Any]) -> dict[str, Any]:
    """``cfg`` typed and checked against :data:`OPTIONS`; :class:`UsageError` for an unknown policy or option, a bad value or a missing one."""
    key = _key(name)
    if key not in OPTIONS:
        raise UsageError(f"unknown policy {name!r}; known policies: {', '.join(POLICIES)}")
    spec = {o.name: o for o in OPTIONS[key]}
    out: dict[str, Any] = {}
    for k, v in cfg.items():
        opt = spec.get(k)
        if opt is None:
            near = difflib.get_close_matches(k, list(spec), n=1)
            hint = f" (did you mean {near[0]}=?)" if near else ""
            raise UsageError(f"policy {key} has no option {k!r}{hint}; its options: {', '.join(spec)}")
        out[k] = _coerce(key, opt, v)
    for o in OPTIONS[key]:
        if o.required and out.get(o.name) in (None, ""):
            raise UsageError(f"--policy {key} needs --policy-arg {o.name}=...: {o.help}")
    return out


def make_policy(name: str = "embedded", **cfg: Any) -> Policy:
    """A policy by name; ``cfg`` (checked by :func:`check_options`) goes to its constructor.

    Raises :class:`UsageError` for an unknown policy or option, :class:`agent.policy.PolicyError` when
    the policy cannot start (no model there, a broken checkpoint).
    """
    key = _key(name)
    cfg = check_options(key, cfg)
    if key == "embedded":
        from agent.grounder.policy import EmbeddedPolicy

        if cfg.get("checkpoint") == "active":  # the registry's active checkpoint, re-read between episodes
            from agent.learn.active import ActivePolicy

            return ActivePolicy(**{k: v for k, v in cfg.items() if k != "checkpoint"})

        return EmbeddedPolicy(**cfg)
    if key == "hf":
        from agent.llm.hf import HFPolicy

        return HFPolicy(**cfg)
    from agent.llm.openai import OpenAIPolicy

    return OpenAIPolicy(**cfg)


def parse_policy_args(items: Optional[list[str]], policy: Optional[str] = None) -> dict[str, Any]:
    """``["model=/x", "max_new_tokens=96"]`` -> keyword arguments.

    With ``policy``, values are typed and checked against that policy's :data:`OPTIONS` (UsageError for
    an unknown or malformed one); without, numbers and booleans are guessed and :func:`make_policy` checks later.
    """
    out: dict[str, Any] = {}
    for it in items or []:
        if "=" not in it:
            raise UsageError(f"--policy-arg takes KEY=VALUE, got {it!r}")
        k, v = it.split("=", 1)
        k = k.strip().replace("-", "_")
        if not k:
            raise UsageError(f"--policy-arg takes KEY=VALUE, got {it!r}")
        val: Any = v
        if policy is None:
            if v.lower() in ("true", "false"):
                val = v.lower() == "true"
            else:
                for typ in (int, float):
                    try:
                        val = typ(v)
                        break
                    except ValueError:
                        pass
        out[k] = val
    return check_options(policy, out) if policy is not None else out


def policy_help() -> str:
    """Every policy's options, for a command's ``--help`` (and the README)."""
    lines = ["policies (--policy NAME) and their options (--policy-arg KEY=VALUE, repeatable):"]
    for name, opts in OPTIONS.items():
        lines.append(f"  {name}:")
        for o in opts:
            lines.append(f"    {o.name}{' (required)' if o.required else ''}: {o.help}")
    return "\n".join(lines)


def add_policy_arguments(parser: Any, default: str = "embedded") -> None:
    """``--policy NAME`` and ``--policy-arg KEY=VALUE`` (repeatable) on a command's parser, with every option in ``--help``.

    Every command that takes ``--policy`` uses this, so they all accept the same options;
    :func:`policy_from_args` makes the policy from what was given.
    """
    import argparse

    parser.add_argument("--policy", default=default, metavar="{" + ",".join(POLICIES) + "}",
                        help=f"{default} (default), or another policy; options below")
    parser.add_argument("--policy-arg", action="append", default=[], metavar="KEY=VALUE",
                        help="an option of the policy, listed below (repeatable)")
    parser.epilog = "\n\n".join(x for x in (parser.epilog, policy_help()) if x)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter


def policy_from_args(args: Any) -> Policy:
    """The policy of parsed ``--policy`` / ``--policy-arg`` options (:class:`UsageError` for a missing, unknown or malformed option)."""
    name = getattr(args, "policy", None) or "embedded"
    return make_policy(name, **parse_policy_args(getattr(args, "policy_arg", None), name))
