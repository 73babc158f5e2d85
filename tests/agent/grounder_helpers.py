"""Shared, cached fixtures for the embedded-policy tests (one MiniLM load per test session)."""
from __future__ import annotations

import functools
import random
from typing import Any


@functools.lru_cache(maxsize=1)
def encoder():
    from agent.grounder.model import Encoder

    return Encoder.shared()


@functools.lru_cache(maxsize=1)
def shipped_policy():
    from agent.grounder.policy import EmbeddedPolicy

    return EmbeddedPolicy(encoder=encoder())


def call(skill: str, **kw: Any) -> dict[str, Any]:
    args = {"offset": [0.0, 0.0, 0.0], "yaw": 0.0, "speed": 1.0, "height": 0.1}
    if skill == "pick":
        args["force"] = 20.0
    args.update(kw)
    return {"skill": skill, "args": args}


def obj(name: str, kind: str, color: str, size: float, x: float = 0.5, y: float = 0.0) -> dict[str, Any]:
    return {"name": name, "kind": kind, "color": color, "size": size, "position": [x, y, size / 2]}


def scene_rgby() -> dict[str, Any]:
    return {"objects": [obj("red block", "block", "red", 0.04, 0.45, 0.1), obj("blue block", "block", "blue", 0.04, 0.55, -0.1),
                        obj("green bowl", "bowl", "green", 0.16, 0.6, 0.2), obj("yellow bowl", "bowl", "yellow", 0.16, 0.4, -0.2)]}


def pick_place(o: str = "red block", t: str = "green bowl") -> list[dict[str, Any]]:
    return [call("pick", object=o), call("place", target=t)]
