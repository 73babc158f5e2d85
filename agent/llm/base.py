"""The shared half of every language-model policy: build the prompt, ask the model, validate the answer.

A backend implements one method, :meth:`LLMPolicy.complete` (chat messages in, the model's raw text
out). :meth:`LLMPolicy.plan` and :meth:`LLMPolicy.ground` build the prompts of
:mod:`agent.llm.prompt` and pass the text through :mod:`agent.llm.parse`, so every backend gets the
same validation as the embedded policy (``skills.schema.validate_plan``) and never returns an
unvalidated plan. The last prompt and raw answer are kept on ``last_messages`` / ``last_text`` for logs.
"""
from __future__ import annotations

import copy
from abc import abstractmethod
from typing import Any, Sequence

from agent.llm import parse, prompt
from agent.policy import Grounding, Policy, PolicyError
from skills.schema import SkillArgError, validate_plan


class LLMPolicy(Policy):
    """A :class:`~agent.policy.Policy` backed by a text-generating model."""

    name = "llm"

    def __init__(self) -> None:
        self.last_messages: list[dict[str, str]] = []
        self.last_text: str = ""

    @abstractmethod
    def complete(self, messages: list[dict[str, str]]) -> str:
        """The model's raw answer to chat ``messages``; raises :class:`PolicyError` when the model cannot answer."""

    def _ask(self, messages: list[dict[str, str]]) -> str:
        self.last_messages = messages
        self.last_text = ""
        text = self.complete(messages)
        self.last_text = text
        return text

    def plan(self, scene: dict[str, Any], task: str, knowledge: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
        if not isinstance(task, str) or not task.strip():
            raise PolicyError("the task is empty; say what the robot should do")
        text = self._ask(prompt.plan_messages(scene, task, list(knowledge)))
        return parse.parse_plan(text, scene)

    def ground(
        self,
        scene: dict[str, Any],
        task: str,
        plan: list[dict[str, Any]],
        step: int,
        history: Sequence[dict[str, Any]],
        knowledge: Sequence[dict[str, Any]],
        utterance: str,
    ) -> Grounding:
        if not isinstance(plan, list) or not plan:
            raise PolicyError("there is no plan to correct")
        if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step < len(plan):
            raise PolicyError(f"step {step!r} is not a step of the plan (0..{len(plan) - 1})")
        try:  # the model sees every argument's current value, defaults filled
            current = validate_plan(copy.deepcopy(plan), scene)
        except SkillArgError as e:
            raise PolicyError(f"the current plan is itself invalid: {e}") from None
        messages = prompt.ground_messages(scene, task, current, step, list(history), list(knowledge), utterance)
        text = self._ask(messages)
        g = parse.parse_grounding(text, scene, plan)
        g.parsed.update({"backend": self.name, "raw": text})
        return g
