"""The :class:`Policy` interface: tasks into plans, corrections into changed plans.

Both calls return structured, schema-validated values (``skills.schema``), never free text to the robot.
Implementations live beside this module (the embedded learned grounder, an ``hf`` causal LM, an
``openai``-compatible endpoint) and are chosen by name through :func:`agent.make_policy`.

Inputs follow ``shared/spec/corrections.md``: ``scene`` is a contract scene dict
(``{"objects": [{"name", "kind", "color", "size", "position"}]}``); ``plan`` a list of skill calls;
``step`` the index of the step the user reacts to; ``history`` the earlier corrections of this episode
(``[{"utterance": str, "step": int}]``, oldest first); ``knowledge`` retrieved memory entries
(dicts with at least ``text`` and ``effect``, see ``memory.kb``).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence
from hardware.errors import RobocorrectError

LEVELS = ("skill", "plan", "stop", "none")


class PolicyError(RobocorrectError, RuntimeError):
    """A policy could not produce a valid answer (malformed or unsafe model output, missing model)."""


@dataclass
class Grounding:
    """A grounded correction.

    ``level``: one of :data:`LEVELS`; ``plan``: the full plan after the correction (validated);
    ``changes``: what changed, in words and numbers ("step 1 place: offset y +1.5 cm");
    ``question``: set when the utterance could not be grounded; then the plan is unchanged and the
    robot should ask instead of guessing ("there is no purple block; I see: ...").
    ``parsed``: the structured intent behind it, for logs and memory (implementation-specific).
    """

    level: str
    plan: list[dict[str, Any]]
    changes: list[str] = field(default_factory=list)
    question: Optional[str] = None
    parsed: dict[str, Any] = field(default_factory=dict)

    @property
    def needs_clarification(self) -> bool:
        return self.question is not None


class Policy(ABC):
    """High-level policy: plans from tasks, changed plans from corrections."""

    name: str = "policy"

    @abstractmethod
    def plan(self, scene: dict[str, Any], task: str, knowledge: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
        """The initial plan of skill calls for ``task`` in ``scene`` (validated; raises PolicyError if impossible)."""

    @abstractmethod
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
        """The level and the plan after ``utterance``; never mutates ``plan``."""

    def between_episodes(self) -> Optional[str]:
        """Called by a session before each episode (never during one). A policy that can change between episodes
        (the policy registry's active checkpoint, :class:`agent.learn.active.ActivePolicy`) picks up the change here
        and returns its new name; the default does nothing and returns None."""
        return None
