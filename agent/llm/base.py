"""The shared half of every language-model policy: build the prompt, ask the model, validate the answer.

A backend implements one method, :meth:`LLMPolicy.complete` (chat messages in, the model's raw text
out; ``pattern`` is the answer's grammar for backends that can constrain decoding).
:meth:`LLMPolicy.plan` and :meth:`LLMPolicy.ground` build the prompts of :mod:`agent.llm.prompt` and pass
the text through :mod:`agent.llm.parse`, so every backend gets the same validation as the embedded
policy (``skills.schema.validate_plan``) and never returns an unvalidated plan.

Two answer forms (:class:`LLMOptions` ``answer``): ``"edit"`` (default), a short edit of the current
plan (:mod:`agent.llm.edits`) prompted with a short system prompt and examples retrieved for the
utterance (:mod:`agent.llm.examples`); ``"plan"``, the whole plan after the correction, prompted with the
full contract and skill catalogue (for large models).

After every call, ``last_messages`` / ``last_text`` hold the prompt and the model's raw answer (empty
when the model was never asked) and ``last_usage`` the prompt and answer sizes in tokens
(``prompt_tokens``, ``completion_tokens``, where the backend knows them): the evaluation writes them
into the answers file, next to the error of a rejected answer.
"""
from __future__ import annotations

import copy
import json
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from agent.llm import edits, parse, prompt
from agent.policy import Grounding, Policy, PolicyError
from skills.schema import SkillArgError, validate_plan

ANSWERS = ("edit", "plan")


@dataclass
class LLMOptions:
    """How a language-model policy prompts and what it asks for (shared by every backend).

    ``answer``: ``"edit"`` or ``"plan"`` (module docstring). ``examples``: corpus examples retrieved per
    utterance (0 = zero-shot). ``kb``: a knowledge-base folder whose ``kb_examples`` entries nearest to
    the utterance are shown as examples too (DROC-style retrieval); knowledge passed to ``ground`` is
    always shown.
    """

    answer: str = "edit"
    examples: int = 4
    kb: Optional[str] = None
    kb_examples: int = 2

    def __post_init__(self) -> None:
        if self.answer not in ANSWERS:
            raise PolicyError(f"answer={self.answer!r}: choose one of {', '.join(ANSWERS)}")
        if self.examples < 0 or self.kb_examples < 0:
            raise PolicyError("examples= and kb_examples= count examples: 0 or more")


class LLMPolicy(Policy):
    """A :class:`~agent.policy.Policy` backed by a text-generating model."""

    name = "llm"

    def __init__(self, options: Optional[LLMOptions] = None) -> None:
        self.options = options or LLMOptions()
        self.last_messages: list[dict[str, str]] = []
        self.last_text: str = ""
        self.last_usage: dict[str, int] = {}
        self.edit_style: prompt.EditStyle = prompt.STYLES["full"]  # a LoRA adapter sets the style it was trained on
        self._kb: Any = None
        if self.options.kb and self.options.kb_examples:
            from agent.llm.examples import KBExamples

            self._kb = KBExamples(self.options.kb, self.options.kb_examples)

    @abstractmethod
    def complete(self, messages: list[dict[str, str]], pattern: Optional[str] = None) -> str:
        """The model's raw answer to chat ``messages``; raises :class:`PolicyError` when the model cannot answer.

        ``pattern``: a regular expression every acceptable answer matches (:func:`agent.llm.edits.edit_pattern`),
        for backends that constrain decoding; others ignore it (validation still decides).
        """

    def _ask(self, messages: list[dict[str, str]], pattern: Optional[str] = None) -> str:
        self.last_messages = messages
        self.last_text = ""
        self.last_usage = {}
        text = self.complete(messages, pattern)
        self.last_text = text
        return text

    def _reset(self) -> None:
        self.last_messages, self.last_text, self.last_usage = [], "", {}

    def plan(self, scene: dict[str, Any], task: str, knowledge: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
        self._reset()
        if not isinstance(task, str) or not task.strip():
            raise PolicyError("the task is empty; say what the robot should do")
        text = self._ask(prompt.plan_messages(scene, task, list(knowledge)))
        return parse.parse_plan(text, scene)

    def retrieve(self, utterance: str, history: Sequence[dict[str, Any]], knowledge: Sequence[dict[str, Any]]) -> list[Any]:
        """The examples shown for ``utterance``: knowledge given and from ``kb=`` first, then the corpus's nearest
        (the nearest of all last, where a small model looks hardest)."""
        from agent.llm.examples import knowledge_examples, shared_bank

        out = knowledge_examples(knowledge)
        if self._kb is not None:
            out += self._kb.search(utterance)
        if self.options.examples:
            before = str(history[-1].get("utterance", "")) if history else ""
            out += reversed(shared_bank().search(utterance, self.options.examples, before))  # nearest last, next to the case
        return out

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
        self._reset()
        if not isinstance(plan, list) or not plan:
            raise PolicyError("there is no plan to correct")
        if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step < len(plan):
            raise PolicyError(f"step {step!r} is not a step of the plan (0..{len(plan) - 1})")
        try:  # the model sees every argument's current value, defaults filled
            current = validate_plan(copy.deepcopy(plan), scene)
        except SkillArgError as e:
            raise PolicyError(f"the current plan is itself invalid: {e}") from None
        if self.options.answer == "plan":
            messages = prompt.ground_messages(scene, task, current, step, list(history), list(knowledge), utterance)
            text = self._ask(messages)
            answer_text = text
        else:
            examples = self.retrieve(utterance, list(history), list(knowledge))
            messages = prompt.edit_messages(scene, task, current, step, list(history), utterance, examples, self.edit_style)
            text = self._ask(messages, edits.edit_pattern(scene))
            answer_text = json.dumps(edits.to_plan_answer(parse.extract_json(text), current, step))
        g = parse.parse_grounding(answer_text, scene, plan)
        g.parsed.update({"backend": self.name, "raw": text})
        return g
