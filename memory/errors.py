"""Errors of the knowledge base (``memory.kb`` and its parts); all are :class:`hardware.errors.RobocorrectError`."""
from __future__ import annotations

from hardware.errors import RobocorrectError


class KBError(RobocorrectError, RuntimeError):
    """A knowledge-base operation that cannot be done; nothing was changed. The message says why."""


class EntryNotFound(KBError):
    """No entry with that id."""


class ImportFormatError(KBError):
    """An import file with a bad line; nothing was imported."""
