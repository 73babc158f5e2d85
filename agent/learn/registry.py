"""The policy registry: which embedded checkpoint is active, every promotion, and how to undo one.

Stored as one JSON file, ``ROOT/registry.json`` (``ROOT`` = ``$ROBOCORRECT_HOME/policies``, default
``~/.robocorrect/policies``), replaced atomically on every change::

    {"active": "r003" | null,                       # null: the shipped checkpoint
     "policies": {"r003": {"path", "created", "base", "episodes", "gate"}},
     "stack": ["shipped", "r002"],                  # what was active before each promotion / use
     "history": [{"t", "action": "promote" | "use" | "rollback" | "reject", "from", "to", "note"}]}

``shipped`` names the checkpoint in the package (``agent/checkpoints/embedded``). Nothing here deletes a
checkpoint folder: a rollback only changes which one is active.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Optional

from .errors import LearnError, LearnUsageError

SHIPPED = "shipped"


def default_root() -> Path:
    home = os.environ.get("ROBOCORRECT_HOME")
    return (Path(home) if home else Path.home() / ".robocorrect") / "policies"


def shipped_checkpoint() -> Path:
    return Path(__file__).resolve().parent.parent / "checkpoints" / "embedded"


class Registry:
    """Read and change the registry under ``root`` (see the module docstring)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()
        self.file = self.root / "registry.json"

    # --- storage ---------------------------------------------------------------------------------
    def load(self) -> dict[str, Any]:
        if not self.file.exists():
            return {"active": None, "policies": {}, "stack": [], "history": []}
        try:
            d = json.loads(self.file.read_text())
            if not isinstance(d, dict) or not isinstance(d.get("policies"), dict):
                raise ValueError("not a registry")
            return d
        except (OSError, ValueError) as e:
            raise LearnError(f"{self.file} is not a readable policy registry ({e}); move it away to start a new one") from None

    def _save(self, d: dict[str, Any]) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = self.file.with_suffix(".tmp")
            tmp.write_text(json.dumps(d, indent=1))
            os.replace(tmp, self.file)
        except OSError as e:
            raise LearnError(f"cannot write the policy registry {self.file}: {e}") from None

    # --- queries ---------------------------------------------------------------------------------
    def active(self) -> str:
        return self.load().get("active") or SHIPPED

    def path_of(self, name: str) -> Path:
        if name == SHIPPED:
            return shipped_checkpoint()
        d = self.load()
        if name not in d["policies"]:
            known = ", ".join([SHIPPED, *d["policies"]])
            raise LearnUsageError(f"no policy {name!r} in {self.file}; known: {known}")
        return Path(d["policies"][name]["path"])

    def active_checkpoint(self) -> Path:
        """Folder of the active checkpoint (the shipped one when nothing was promoted)."""
        return self.path_of(self.active())

    def active_since(self) -> Optional[float]:
        """When the active checkpoint was created (unix s); None for the shipped one."""
        d = self.load()
        a = d.get("active")
        return d["policies"][a]["created"] if a and a in d["policies"] else None

    def next_name(self) -> str:
        d = self.load()
        n = 1 + sum(1 for _ in d["policies"])
        while f"r{n:03d}" in d["policies"]:
            n += 1
        return f"r{n:03d}"

    # --- changes ---------------------------------------------------------------------------------
    def add(self, name: str, path: str | Path, info: dict[str, Any]) -> None:
        """Record a candidate checkpoint (not active)."""
        d = self.load()
        if name in d["policies"] or name == SHIPPED:
            raise LearnUsageError(f"a policy named {name!r} is already registered")
        d["policies"][name] = {"path": str(Path(path).resolve()), "created": time.time(), **info}
        self._save(d)

    def _switch(self, d: dict[str, Any], to: str, action: str, note: str) -> None:
        prev = d.get("active") or SHIPPED
        d["stack"].append(prev)
        d["active"] = None if to == SHIPPED else to
        d["history"].append({"t": time.time(), "action": action, "from": prev, "to": to, "note": note})
        self._save(d)

    def promote(self, name: str, note: str = "") -> None:
        """Make a registered candidate active (the gate calls this when it accepts)."""
        d = self.load()
        if name not in d["policies"]:
            raise LearnUsageError(f"no policy {name!r} to promote")
        self._switch(d, name, "promote", note)

    def reject(self, name: str, note: str) -> None:
        d = self.load()
        d["history"].append({"t": time.time(), "action": "reject", "from": d.get("active") or SHIPPED, "to": name, "note": note})
        self._save(d)

    def use(self, name: str) -> None:
        """Make any registered policy (or ``shipped``) active by hand."""
        d = self.load()
        if name != SHIPPED and name not in d["policies"]:
            known = ", ".join([SHIPPED, *d["policies"]])
            raise LearnUsageError(f"no policy {name!r}; known: {known}")
        self._switch(d, name, "use", "by hand")

    def rollback(self) -> str:
        """Undo the last promotion / use: the policy active before it becomes active again; returns its name."""
        d = self.load()
        if not d["stack"]:
            raise LearnUsageError("nothing to roll back: no promotion or use is recorded")
        prev = d["stack"].pop()
        cur = d.get("active") or SHIPPED
        d["active"] = None if prev == SHIPPED else prev
        d["history"].append({"t": time.time(), "action": "rollback", "from": cur, "to": prev, "note": ""})
        self._save(d)
        return prev
