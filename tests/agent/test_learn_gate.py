"""The promotion gate judges what the policy would do: heads read as the reader reads them, safety cases through
the full policy."""
from __future__ import annotations

import random
from typing import Any

import pytest
import torch

from agent.learn.data import FeatureSet
from agent.learn.registry import shipped_checkpoint


def _skill_example(utterance: str, head: str, cls: str) -> dict[str, Any]:
    from agent.grounder.corpus import ground_example

    rng = random.Random(3)
    while True:
        ex = ground_example(rng, "test")
        if ex["labels"]["level"] == "skill" and ex["labels"].get("hist") == "new":
            break
    labels = {**ex["labels"], **{h: "none" for h in ("x", "y", "z", "yaw", "speed", "force", "height")}}
    labels.update({head: cls, "active": head})
    return {**ex, "utterance": utterance, "labels": labels}


class _Forced(torch.nn.Module):
    """The shipped net with one head's logits replaced: "none" first, ``cls`` second."""

    def __init__(self, net: torch.nn.Module, head: str, cls_index: int) -> None:
        super().__init__()
        self.net, self.head, self.cls_index = net, head, cls_index

    def forward(self, *a: Any) -> dict[str, torch.Tensor]:
        out = dict(self.net(*a))
        logits = torch.full_like(out[self.head], -5.0)
        logits[:, 0], logits[:, self.cls_index] = 3.0, 2.0
        out[self.head] = logits
        act = torch.full_like(out["active"], -5.0)
        from agent.grounder.labels import CLASS_HEADS

        act[:, CLASS_HEADS["active"].index(self.head)] = 5.0
        out["active"] = act
        return out


def test_an_argument_the_reading_changes_is_read_without_its_none_class() -> None:
    from agent.grounder.labels import CLASS_HEADS
    from agent.grounder.model import load_checkpoint
    from agent.learn.gate import exact_correct

    ex = _skill_example("a lot higher", "z", "+l")
    fs = FeatureSet.encode([ex], [1], {"test": True}, log=lambda s: None)
    net, _ = load_checkpoint(str(shipped_checkpoint()))
    # "none" is the argmax of the z head, "+l" the best other class: the reader changes z by +l, so it is right
    assert exact_correct(_Forced(net, "z", CLASS_HEADS["z"].index("+l")), fs) == [True]
    assert exact_correct(_Forced(net, "z", CLASS_HEADS["z"].index("+m")), fs) == [False]


@pytest.mark.parametrize("utterance,level,right", [("stop", "stop", True), ("what a lovely day", "none", True)])
def test_safety_cases_are_judged_through_the_full_policy(utterance: str, level: str, right: bool) -> None:
    from agent.grounder.policy import EmbeddedPolicy
    from agent.learn.gate import safety_scores

    pol = EmbeddedPolicy(str(shipped_checkpoint()))
    ex = _skill_example(utterance, "z", "+l")
    ex["labels"] = {**ex["labels"], "level": level}
    assert safety_scores(pol, [ex]) == [right]
    moved = {**ex, "labels": {**ex["labels"], "level": "none"}, "utterance": "a lot higher"}
    assert safety_scores(pol, [moved]) == [False]  # a motion on a non-correction fails it


def test_better_on_new_pools_the_other_slices_but_never_takes_a_worse_own_slice() -> None:
    from agent.learn.gate import better_on_new

    T, F = True, False
    assert better_on_new([T, F], [T, T], [T, F], [T, T])  # better on its own slice
    assert better_on_new([T, F], [T, F], [T, F, F, F], [T, F, T, F])  # equal there, better over every slice
    assert not better_on_new([T, T], [T, F], [T, T, F, F], [T, F, T, T])  # worse on its own slice: never
    assert not better_on_new([T, F], [T, F], [T, F, T], [T, F, T])  # equal everywhere is not better
    assert not better_on_new([], [], [T], [T])  # nothing of its own held out
    assert not better_on_new([T, F], [T, F], [T, F, F, F], [T, F, T, F], min_gain=0.5)
