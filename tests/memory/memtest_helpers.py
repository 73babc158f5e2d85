"""Helpers for the memory tests: synthetic scenes, plans and episodes in the shared episode format (memory.episodes)."""
from __future__ import annotations

import copy
import itertools
import os
from typing import Any, Optional

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

_ids = itertools.count(1)


def obj(name: str, kind: str, color: str, size: float, pos=(0.5, 0.0, 0.02)) -> dict[str, Any]:
    return {"name": name, "kind": kind, "color": color, "size": size, "position": list(pos), "yaw": 0.0, "mass": 0.1,
            "friction": 0.9, "height": size if kind == "block" else 0.06}


def scene(*objects: dict[str, Any], quirks: Optional[list[dict[str, Any]]] = None) -> dict[str, Any]:
    """A Scene.to_dict()-shaped scene, quirks included (distillation must not read them)."""
    return {"seed": None, "objects": list(objects), "quirks": quirks or []}


def pick(o: str, **kw: Any) -> dict[str, Any]:
    args = {"object": o, "offset": [0.0, 0.0, 0.0], "yaw": 0.0, "speed": 1.0, "force": 20.0, "height": 0.1}
    args.update(kw)
    return {"skill": "pick", "args": args}


def place(t: str, **kw: Any) -> dict[str, Any]:
    args = {"target": t, "offset": [0.0, 0.0, 0.0], "yaw": 0.0, "speed": 1.0, "height": 0.1}
    args.update(kw)
    return {"skill": "place", "args": args}


def episode(task: str, scn: dict[str, Any], base: list, final: list, corrections: Optional[list] = None,
            success: Optional[bool] = True, knowledge_used: Optional[list] = None, initial: Optional[list] = None,
            id: Optional[str] = None, steps: Optional[list] = None, utterances: Optional[list] = None) -> dict[str, Any]:
    """An episode record in the shared format. Unless ``steps`` is given, every step of the final plan ran once,
    successfully, after the corrections (which are timed t=1005)."""
    status = {True: "success", False: "failure", None: "running"}[success]
    return {
        "id": id or f"ep{next(_ids):04d}",
        "task": task,
        "scene": copy.deepcopy(scn),
        "policy": "test",
        "knowledge_used": knowledge_used or [],
        "base_plan": copy.deepcopy(base),
        "initial_plan": copy.deepcopy(initial if initial is not None else base),
        "final_plan": copy.deepcopy(final),
        "success": success,
        "status": status,
        "steps": steps if steps is not None else [
            {"index": i, "call": c, "outcome": {"skill": c["skill"], "success": True}, "t": 1006.0 + i} for i, c in enumerate(final)],
        "corrections": corrections or [],
        "utterances": utterances or [],
        "started": 1000.0,
        "ended": 1010.0 if success is not None else None,
        "frames": [],
    }


def corr(utterance: str, step: int, before=None, after=None, t: float = 1005.0, during_motion: bool = False) -> dict[str, Any]:
    return {"utterance": utterance, "step": step, "level": "skill", "before": before or [], "after": after or [],
            "changes": [], "parsed": {}, "t": t, "during_motion": during_motion}


def run(call: dict[str, Any], t: float, ok: bool = True, failure: Optional[str] = None) -> dict[str, Any]:
    """One executed step for ``steps=``."""
    return {"index": 0, "call": copy.deepcopy(call), "outcome": {"skill": call["skill"], "success": ok, "failure": failure}, "t": t}


def taught(task: str, scn: dict[str, Any], base: list, final: list, says: dict[int, str], **kw: Any) -> dict[str, Any]:
    """An episode where the user corrected each step ``i`` in ``says`` once (``says[i]``), turning ``initial`` (default
    ``base``) into ``final`` step by step; every step then ran successfully."""
    start = kw.get("initial") if kw.get("initial") is not None else base
    plan = copy.deepcopy(start)
    cs = []
    for i, words in says.items():
        after = copy.deepcopy(plan)
        after[i] = copy.deepcopy(final[i])
        cs.append(corr(words, i, plan, after))
        plan = after
    return episode(task, scn, base, final, corrections=cs, **kw)
