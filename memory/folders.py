"""Checks on the folders robocorrect keeps its state in (``$ROBOCORRECT_HOME`` or ``~/.robocorrect``,
``--log DIR``, ``--kb DIR``), so that a folder that is a file, missing or read-only gives one clear message
instead of an ``OSError`` or ``sqlite3`` traceback, and read-only commands never create anything."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional


def _home_note(path: Path) -> str:
    home = os.environ.get("ROBOCORRECT_HOME")
    return f" (ROBOCORRECT_HOME={home})" if home and str(path).startswith(home) else ""


def folder_problem(path: Path, what: str, db_name: str, create: bool) -> Optional[str]:
    """Why ``path`` cannot hold ``what`` (e.g. "episode log") whose database file is ``db_name``; None when
    it can. ``create`` False (a read-only command): a missing folder or database is a problem, not
    something to create. ``create`` True: the folder must be creatable and writable."""
    note = _home_note(path)
    for p in [path, *path.parents]:
        if p.exists():
            if not p.is_dir():
                return f"cannot use {path} for the {what}: {p} is a file, not a folder{note}"
            break
    if not create:
        if not (path / db_name).is_file():
            return f"no {what} at {path}{note}: nothing has been written there yet"
        if not os.access(path, os.R_OK | os.X_OK):
            return f"cannot read the {what} at {path}: permission denied{note}"
    existing = next((p for p in [path, *path.parents] if p.exists()), None)
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        return (f"cannot use the {what} at {path}: {existing} is read-only{note}; robocorrect writes there "
                f"(its database journal), so choose a writable folder")
    return None
