"""The root of every error robocorrect raises on purpose.

Every package subclasses :class:`RobocorrectError` once per kind of failure (``SceneError``,
``RobotError``, ``SkillArgError``, ``PolicyError``, ``KBError``, ...). Its message is written for the
user and says what to do next; the CLI prints exactly these as one ``error: ...`` line. Anything else
that escapes is a bug and keeps its traceback. It lives in the lowest layer so that every package can
subclass it.
"""
from __future__ import annotations


class RobocorrectError(Exception):
    """An error meant for the user: bad input, a refused command, a missing or corrupt file."""


class UsageError(RobocorrectError):
    """The command line or a setting is wrong (exit status 2 in the CLI)."""
