"""The registry's active checkpoint as a policy that follows promotions between episodes.

    make_policy("embedded", checkpoint="active")   # what --policy-arg checkpoint=active gives

:class:`ActivePolicy` answers with the embedded policy loaded from the registry's active checkpoint
(:mod:`agent.learn.registry`). A session calls :meth:`between_episodes` before each episode; it re-reads
``registry.json`` and, when a promotion, ``policy use`` or rollback changed the active checkpoint (in this
process or another, e.g. ``robocorrect retrain --watch``), loads the new one. An episode under way keeps the
checkpoint it started with. A registry that cannot be read, or a checkpoint that does not load, keeps the one
in use (logged), so a broken promotion never stops a session.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Optional, Sequence

from agent.policy import Grounding, Policy, PolicyError
from hardware.errors import RobocorrectError

from .registry import Registry

logger = logging.getLogger(__name__)


class ActivePolicy(Policy):
    """The embedded policy on the registry's active checkpoint. ``registry``: its folder (default
    ``$ROBOCORRECT_HOME/policies``); ``options``: the other :class:`agent.grounder.policy.EmbeddedPolicy`
    keyword arguments (threads, viewpoint, thresholds), kept across reloads."""

    name = "embedded"

    def __init__(self, registry: str | Path | None = None, **options: Any) -> None:
        self.registry = Registry(registry)
        self.options = options
        self.active = self.registry.active()
        self.checkpoint = self.registry.active_checkpoint()
        self.inner = self._load(self.checkpoint)

    def _load(self, checkpoint: Path) -> Policy:
        from agent.grounder.policy import EmbeddedPolicy

        return EmbeddedPolicy(str(checkpoint), **self.options)

    def between_episodes(self) -> Optional[str]:
        """Re-read the registry; load its active checkpoint when it changed. Returns the newly loaded policy's
        name, or None when nothing changed (or the new one could not be loaded: the current one stays)."""
        try:
            name = self.registry.active()
            path = self.registry.active_checkpoint()
        except RobocorrectError as e:
            logger.warning("policy registry unreadable, keeping %s: %s", self.active, e)
            return None
        if name == self.active and path == self.checkpoint:
            return None
        try:
            inner = self._load(path)
        except (PolicyError, OSError, ValueError, KeyError) as e:
            logger.warning("cannot load promoted policy %s (%s), keeping %s: %s", name, path, self.active, e)
            return None
        logger.info("policy %s -> %s (%s)", self.active, name, path)
        self.inner, self.active, self.checkpoint = inner, name, path
        return name

    def plan(self, scene: dict[str, Any], task: str, knowledge: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
        return self.inner.plan(scene, task, knowledge)

    def ground(self, scene: dict[str, Any], task: str, plan: list[dict[str, Any]], step: int,
               history: Sequence[dict[str, Any]], knowledge: Sequence[dict[str, Any]], utterance: str) -> Grounding:
        return self.inner.ground(scene, task, plan, step, history, knowledge, utterance)
