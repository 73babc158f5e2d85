"""Policies by name: ``make_policy("embedded")`` (default, offline, CPU), ``"hf"``, ``"openai"``.

Implementations are imported lazily, so asking for one never loads the others.

    from agent.factory import make_policy
    policy = make_policy()                                     # the learned embedded policy
    policy = make_policy("embedded", checkpoint="active")      # the registry's active checkpoint (agent.learn.registry)
    policy = make_policy("hf", model="/path/to/causal-lm")     # agent.llm.hf.HFPolicy
    policy = make_policy("openai", base_url=..., model=...)    # agent.llm.openai.OpenAIPolicy
"""
from __future__ import annotations

from typing import Any

from agent.policy import Policy, PolicyError

POLICIES = ("embedded", "hf", "openai")


def make_policy(name: str = "embedded", **cfg: Any) -> Policy:
    """A policy by name; ``cfg`` goes to its constructor. Unknown names raise :class:`PolicyError`."""
    key = (name or "embedded").strip().lower()
    if key == "embedded":
        from agent.grounder.policy import EmbeddedPolicy

        if cfg.get("checkpoint") == "active":  # the policy registry's active checkpoint (robocorrect policy list)
            from agent.learn.registry import Registry

            cfg = {**cfg, "checkpoint": str(Registry().active_checkpoint())}

        return EmbeddedPolicy(**cfg)
    if key == "hf":
        from agent.llm.hf import HFPolicy

        return HFPolicy(**cfg)
    if key == "openai":
        from agent.llm.openai import OpenAIPolicy

        return OpenAIPolicy(**cfg)
    raise PolicyError(f"unknown policy {name!r}; known policies: {', '.join(POLICIES)}")


def parse_policy_args(items: list[str] | None) -> dict[str, Any]:
    """``["model=/x", "max_new_tokens=256", "json_mode=false"]`` -> kwargs (ints, floats, booleans parsed)."""
    out: dict[str, Any] = {}
    for it in items or []:
        if "=" not in it:
            raise PolicyError(f"--policy-arg takes KEY=VALUE, got {it!r}")
        k, v = it.split("=", 1)
        val: Any = v
        if v.lower() in ("true", "false"):
            val = v.lower() == "true"
        else:
            for typ in (int, float):
                try:
                    val = typ(v)
                    break
                except ValueError:
                    pass
        out[k.strip().replace("-", "_")] = val
    return out
