"""The teaching session: one robot, one policy, the knowledge base (when there is one) and the episode log.

No terminal code here: the CLI (``robocorrect sim``), the demo, benchmarks and tests drive the same
object, and every UI learns what happened from structured :class:`SessionEvent` /
:class:`CorrectionResult` values.

Flow (frames and units: ``shared/spec/corrections.md``; metres, radians, newtons, base frame):

1. :meth:`TeachingSession.start` — task in, plan out: ``policy.plan`` (without knowledge: ``base_plan``),
   then knowledge retrieved from the knowledge base and applied (``memory.knowledge.apply_knowledge``, the
   same for every policy: ``initial_plan``); both go to the episode log. The knowledge is also given to
   ``policy.ground`` with every correction.
2. :meth:`TeachingSession.step` — runs the next skill call through ``skills.library.run_skill``; the
   attached channel is polled before every control tick. ``stop`` halts within one tick (the
   ``SkillControl`` flag is set before any model runs); other corrections are grounded at once with
   ``step`` = the running step and change the rest of the motion through ``control.replace_args``, or,
   when the running step's skill, object or target change, stop it and redo it from the new plan. A place
   re-aimed too late to move (it had already put the object down where it aimed) says so and is redone.
3. :meth:`TeachingSession.correct` — any utterance, any time: session words (``agent.words``: stop, undo,
   done, give up, continue, "don't do that again", praise) are handled before any model runs; everything
   else is grounded by the policy. After a step, a change to a step that already ran makes the session redo
   it (rewinding to the pick when a place must be redone); after a failure the same step runs again with the
   new arguments, with the world re-read (the object may have moved). Undo restores the plan and, when
   steps ran under the undone change, runs them again as the restored plan says.
4. :meth:`TeachingSession.finish` — ends the episode (success / failure) and closes its log record; with a
   knowledge base, the episode is learned from.

:meth:`TeachingSession.run_episode` runs the whole loop against a :class:`agent.channel.Channel`
(``runner``).

Parts, one job each: ``agent.words`` (session words), ``plan_editor`` (plan, cursor, undo, rewind),
``corrections`` (what an utterance does), ``recorder`` (episode log and frames), ``learning`` (knowledge
and the learning hook), ``goal`` (goal checks asked of the ``World``), ``runner`` (the episode loop),
``grounding`` (corrections said while the arm moves are grounded in a worker thread and handed to the
motion at a tick boundary, in real-time mode), ``core`` (:class:`TeachingSession`, which composes them),
``types`` (values, settings, protocols).
"""
from agent.session.core import TeachingSession
from agent.session.types import (CorrectionResult, EpisodeLogStore, EpisodeSummary, KnowledgeStore, SessionConfig,
                                 SessionError, SessionEvent)
from agent.words import classify, normalize

__all__ = ["TeachingSession", "SessionConfig", "SessionError", "SessionEvent", "CorrectionResult", "EpisodeSummary",
           "KnowledgeStore", "EpisodeLogStore", "classify", "normalize"]
