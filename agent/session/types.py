"""The values a teaching session hands out (events, correction results, episode summaries), its settings,
its error, and the interfaces of its collaborators that are not robot or world: the knowledge base and the
episode log (``typing.Protocol``: ``memory.kb.KnowledgeBase`` and ``memory.episodes.EpisodeLog`` satisfy
them without importing this module)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Protocol, Sequence

from hardware.errors import RobocorrectError

SkillCall = dict[str, Any]
"""One skill call: ``{"skill": name, "args": {...}}`` (``skills.schema``)."""
Plan = list[SkillCall]
Entry = dict[str, Any]
"""A knowledge entry as ``KnowledgeBase.retrieve`` returns it (``id``, ``text``, ``conditions``, ``effect``, ...)."""


class SessionError(RobocorrectError, RuntimeError):
    """A session used out of order (step before start, step after finish); the message says what to do."""


class Report(Protocol):
    """What ``KnowledgeStore.ingest`` returns."""

    def to_dict(self) -> dict[str, Any]: ...


class KnowledgeStore(Protocol):
    """The calls a session makes on its knowledge base (``memory.kb.KnowledgeBase``)."""

    def retrieve(self, task: str, scene: Any, plan: Optional[Sequence[SkillCall]] = None, step: Optional[int] = None,
                 images: Optional[dict[str, Any]] = None, k: int = 8) -> list[Entry]:
        """Entries for this task, scene contract and plan, best first."""

    def weaken(self, entry_id: int) -> Any:
        """Lower one entry's confidence ("don't do that again")."""

    def ingest(self, episode: dict[str, Any], images: Optional[dict[str, Any]] = None,
               trial: Optional[Callable[..., Optional[bool]]] = None) -> Report:
        """Learn from one ended episode record (``EpisodeLogStore.load``); ``trial``: a replay of the episode in a
        simulator, for credit by re-running (``memory.rerun.StepTrial``; a session passes it only when it has one)."""


class EpisodeLogStore(Protocol):
    """The calls a session makes on its episode log (``memory.episodes.EpisodeLog``)."""

    def begin(self, task: str, scene: Any, policy: Optional[str], base_plan: Sequence[SkillCall],
              initial_plan: Sequence[SkillCall], knowledge_used: Sequence[dict[str, Any]] = (),
              episode_id: Optional[str] = None, meta: Optional[dict[str, Any]] = None) -> str: ...

    def log(self, episode_id: str, kind: str, data: dict[str, Any], t: Optional[float] = None) -> None: ...

    def log_step(self, episode_id: str, index: int, call: SkillCall, outcome: Any, t: Optional[float] = None) -> None: ...

    def log_correction(self, episode_id: str, record: dict[str, Any]) -> None: ...

    def log_plan(self, episode_id: str, plan: list[SkillCall], reason: str) -> None: ...

    def save_frame(self, episode_id: str, image: Any, label: str) -> str: ...

    def end(self, episode_id: str, success: Optional[bool], final_plan: Optional[list[SkillCall]] = None,
            status: Optional[str] = None, reason: str = "") -> None: ...

    def load(self, episode_id: str) -> dict[str, Any]: ...


@dataclass
class SessionConfig:
    """Settings of a teaching session.

    ``frames``: save camera frames (start, after each step, end) in the episode log; ``frame_size``
    (width, height) px; ``frame_camera``: the world's camera they come from (``World.render``).
    ``knowledge_k``: entries retrieved per task. ``max_steps``: skill calls per
    episode before :meth:`TeachingSession.run_episode` gives up. ``idle_timeout_s``: how long
    ``run_episode`` waits for the user when it cannot go on alone (None: until the channel closes).
    ``confirm_wait_s``: after the plan is done and the goal holds, how long to wait for a last
    correction before ending as a success. ``per_phase``: at most this many utterances are handled
    before / after one step (a talkative source cannot stall the robot). ``learn``: when the session has
    a knowledge base and a log, each ended episode is given to ``kb.ingest`` (memory on).
    ``real_time_factor``: pace a simulated robot at this many simulated seconds per wall-clock second
    (1.0 = real time, so that a person can react while the arm moves); None runs as fast as it can.
    ``ground_in_worker``: corrections said while the arm moves are grounded in a worker thread and handed to
    the motion at a tick boundary, so the control loop keeps its rate (``agent.session.grounding``); None:
    when ``real_time_factor`` is set (as-fast-as-possible simulation grounds inline, so that the simulated
    time stands still while the policy thinks and runs are reproducible).
    """

    frames: bool = True
    frame_size: tuple[int, int] = (320, 240)
    frame_camera: str = "scene"
    knowledge_k: int = 8
    max_steps: int = 30
    idle_timeout_s: Optional[float] = None
    confirm_wait_s: float = 0.0
    per_phase: int = 4
    learn: bool = True
    real_time_factor: Optional[float] = None
    ground_in_worker: Optional[bool] = None


@dataclass
class SessionEvent:
    """Something a UI may show: ``kind`` is 'plan', 'knowledge', 'step_start', 'step_end', 'correction',
    'stopped', 'question', 'undo', 'note', 'waiting' (the robot waits for the user: ``message`` says for
    what, ``data["timeout_s"]`` how long) or 'finished'; ``message`` says it in words; ``data`` carries
    the numbers (plan, outcome dict, changes, ...)."""

    kind: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)
    t: float = field(default_factory=time.time)


@dataclass
class CorrectionResult:
    """What one utterance did.

    ``kind``: the session word ('stop', 'undo', 'done', 'give_up', 'dont_again', 'resume', 'praise') or
    'correction'; ``level``: the grounding level (skill / plan / stop / none); ``step``: the step it was
    grounded against; ``changes``: what changed, in words and numbers (``skills.schema.diff_plans``);
    ``before`` / ``after``: the plans; ``action``: what the session does about it ('replace_args' the
    running motion, 'redo' a step, 'continue', 'stop', 'finish', 'ask', 'none'); ``next``: what the robot
    will do next, in words; ``question``: set when the utterance could not be grounded (nothing changed);
    ``during_motion``: it arrived while a skill moved; ``finished``: the episode ended because of it.
    """

    utterance: str
    kind: str
    level: str
    step: int
    changes: list[str] = field(default_factory=list)
    before: Plan = field(default_factory=list)
    after: Plan = field(default_factory=list)
    action: str = "none"
    next: str = ""
    question: Optional[str] = None
    during_motion: bool = False
    finished: bool = False
    parsed: dict[str, Any] = field(default_factory=dict)
    latency_s: float = 0.0

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def summary(self) -> str:
        """One line: the changes (or the question / action) and what comes next."""
        if self.question:
            return self.question
        what = "; ".join(self.changes) if self.changes else {"stop": "stopped", "finish": "episode ended"}.get(self.action, "no change")
        nxt = f"redo from {self.next}" if self.action == "redo" else self.next
        return f"{what} — next: {nxt}" if nxt else what


@dataclass
class EpisodeSummary:
    """What :meth:`TeachingSession.run_episode` returns."""

    episode_id: Optional[str]
    success: Optional[bool]
    status: str
    steps: int
    corrections: int
    final_plan: Plan
    wall_s: float
    reason: str = ""
