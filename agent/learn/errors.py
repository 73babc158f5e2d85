"""Errors of the learning loop."""
from __future__ import annotations

from hardware.errors import RobocorrectError, UsageError


class LearnError(RobocorrectError, RuntimeError):
    """Training, the gate or the registry cannot go on (no examples, a missing checkpoint, a bad registry file)."""


class LearnUsageError(UsageError):
    """A bad command line or setting of train / retrain / policy (the message names the flag)."""
