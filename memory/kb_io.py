"""Knowledge-base import and export as JSON Lines: one ``Entry.to_dict()`` per line, without vectors.

Exports are written atomically (temporary file, fsync, ``os.replace``). Imports are all or nothing: every line is
parsed and validated before anything is written, and :class:`memory.errors.ImportFormatError` names the first bad
line. Files written by an older version (entries without evidence) import as they are.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable

from memory.entry import Entry
from memory.errors import ImportFormatError, KBError


def export_entries(entries: Iterable[Entry], path: str | Path) -> int:
    """Write ``entries`` as JSON Lines to ``path`` atomically; returns the count."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    n = 0
    with open(tmp, "w") as f:
        for e in entries:
            f.write(json.dumps(e.to_dict(), sort_keys=True) + "\n")
            n += 1
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return n


def read_entries(path: str | Path) -> list[Entry]:
    """Parse and validate a JSON Lines export (ids dropped); :class:`ImportFormatError` names the first bad line."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        raise ImportFormatError(f"no file {path}") from None
    except UnicodeDecodeError:
        raise ImportFormatError(f"{path} is not a text file of JSON lines") from None
    entries = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            d: Any = json.loads(line)
        except json.JSONDecodeError as e:
            raise ImportFormatError(f"{path}:{n}: not valid JSON ({e.msg}); nothing imported") from None
        try:
            e = Entry.from_dict(d)
        except KBError as err:
            raise ImportFormatError(f"{path}:{n}: {err}; nothing imported") from None
        e.id = None
        entries.append(e)
    return entries
