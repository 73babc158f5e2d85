"""Read-only views for the page: logged episodes (with their camera frames), knowledge entries, the policy
registry and teaching-benchmark results. Nothing here writes; every id from a request is checked before use,
and a frame is served only when the episode's record lists it and it lies inside the log folder.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Optional

from hardware.errors import RobocorrectError

EPISODE_REF = re.compile(r"^-?[A-Za-z0-9_.:-]{1,80}$")


class NotFound(Exception):
    """What the request names does not exist (404); the message says what does."""


class BadRequest(Exception):
    """A malformed id or parameter (400)."""


class Browser:
    """``log``: the session's episode log (``memory.episodes.EpisodeLog``); ``kb``: its knowledge base, or None
    (then ``kb_path``, when it exists, is opened read-only on first use); ``policies``: the policy registry
    folder (None: the default); ``bench``: teaching-benchmark result files."""

    def __init__(self, log: Any, kb: Any = None, kb_path: Optional[str] = None, policies: Optional[str] = None,
                 bench: tuple[str, ...] = ()) -> None:
        self.log, self.kb, self.kb_path, self.policies, self.bench_files = log, kb, kb_path, policies, tuple(bench)
        self._kb_tried = kb is not None

    # --- episodes --------------------------------------------------------------------------------
    def episodes(self, limit: int = 200) -> list[dict[str, Any]]:
        """Summaries, newest first."""
        return list(reversed(self.log.list(limit=limit)))

    def _episode_id(self, ref: str) -> str:
        if not EPISODE_REF.match(ref or ""):
            raise BadRequest("an episode id is letters, digits and -_.: (at most 80)")
        try:
            return self.log.resolve(ref)
        except RobocorrectError as e:
            raise NotFound(str(e)) from None

    def episode(self, ref: str) -> dict[str, Any]:
        """One episode's record (``memory.episodes`` format) with ``frame_urls`` for its frames."""
        eid = self._episode_id(ref)
        rec = self.log.load(eid)
        rec["frame_urls"] = [{"index": i, "label": fi.get("label", ""), "url": f"/api/episodes/{eid}/frames/{i}"}
                             for i, fi in enumerate(rec.get("frame_info") or [])]
        return rec

    def frame_path(self, ref: str, index: str) -> Path:
        """The PNG of frame ``index`` of an episode (only files its record lists, inside the log folder)."""
        eid = self._episode_id(ref)
        if not index.isdigit() or len(index) > 6:
            raise BadRequest("a frame index is a whole number")
        frames = self.log.load(eid).get("frames") or []
        i = int(index)
        if i >= len(frames):
            raise NotFound(f"episode {eid} has {len(frames)} frame(s)")
        root = Path(self.log.root).resolve()
        path = Path(self.log.media_path(frames[i])).resolve()
        if root not in path.parents or not path.is_file():
            raise NotFound(f"frame {i} of episode {eid} is not on disk")
        return path

    # --- knowledge -------------------------------------------------------------------------------
    def _kb(self) -> Any:
        if self.kb is None and not self._kb_tried:
            self._kb_tried = True
            from memory.kb_cli import open_kb

            try:
                self.kb = open_kb(self.kb_path, create=False)
            except RobocorrectError:
                self.kb = None
        return self.kb

    def knowledge(self) -> dict[str, Any]:
        kb = self._kb()
        if kb is None:
            return {"path": self.kb_path, "entries": [],
                    "message": "no knowledge base here (start robocorrect serve --kb DIR to teach with memory)"}
        rows = []
        for e in kb.list():
            d = e.to_dict()
            rows.append({k: d.get(k) for k in ("id", "text", "scope", "confidence", "status", "basis", "subject", "sources",
                                               "stats", "updated")})
        return {"path": str(getattr(kb, "path", "")), "entries": rows}

    def knowledge_entry(self, entry_id: str) -> dict[str, Any]:
        if not entry_id.isdigit() or len(entry_id) > 12:
            raise BadRequest("a knowledge entry id is a whole number")
        kb = self._kb()
        if kb is None:
            raise NotFound("there is no knowledge base")
        try:
            return kb.get(int(entry_id)).to_dict()
        except RobocorrectError as e:
            raise NotFound(str(e)) from None

    # --- policies --------------------------------------------------------------------------------
    def policy_registry(self) -> dict[str, Any]:
        from agent.learn.registry import Registry

        reg = Registry(self.policies)
        try:
            d = reg.load()
        except RobocorrectError as e:
            return {"active": None, "policies": {}, "history": [], "message": str(e)}
        return {"root": str(reg.root), "active": reg.active(), "policies": d.get("policies", {}),
                "history": d.get("history", [])[-50:], "stack": d.get("stack", [])}

    # --- benchmark results -----------------------------------------------------------------------
    def bench_list(self) -> list[dict[str, Any]]:
        out = []
        for i, f in enumerate(self.bench_files):
            try:
                r = load_bench(f)
                out.append({"index": i, "file": f, "seeds": r.get("seeds"), "config": r.get("config", {}),
                            "has_memory_off": bool(r.get("memory_off")), "has_memory_on": bool(r.get("memory_on"))})
            except BadRequest as e:
                out.append({"index": i, "file": f, "error": str(e)})
        return out

    def bench(self, index: str) -> dict[str, Any]:
        if not index.isdigit() or int(index) >= len(self.bench_files):
            raise NotFound(f"there are {len(self.bench_files)} benchmark result file(s)")
        return load_bench(self.bench_files[int(index)])


def load_bench(path: str) -> dict[str, Any]:
    """A ``robocorrect bench teach`` result: ``teach_results.json``, or a ``--json`` output whose last
    non-empty line is the JSON object."""
    try:
        text = Path(path).read_text()
    except OSError as e:
        raise BadRequest(f"cannot read {path}: {e.strerror}") from None
    for candidate in (text, *(ln for ln in reversed(text.splitlines()) if ln.strip())):
        try:
            d = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(d, dict) and isinstance(d.get("rounds"), list):
            return d
        break
    raise BadRequest(f"{path} is not a bench teach result (teach_results.json or a --json output)")
