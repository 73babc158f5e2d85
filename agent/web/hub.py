"""Fan-out from the robot's threads to the connected browsers.

The session and the camera run in their own threads; each browser is one websocket served by the event loop.
:meth:`Hub.publish` (JSON messages) and :meth:`Hub.publish_frame` (camera frames) may be called from any
thread. Every client has its own outbox: messages are kept in order (up to ``MAX_QUEUED``, oldest dropped),
but only the newest frame is kept, so a slow browser skips frames instead of falling behind the robot.
"""
from __future__ import annotations

import asyncio
import collections
import json
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any, Optional

MAX_QUEUED = 500


@dataclass
class Client:
    """One connected browser: ``id`` (random), its outbox (JSON texts, newest frame) and the wake-up flag."""

    id: str
    outbox: "collections.deque[str]" = field(default_factory=lambda: collections.deque(maxlen=MAX_QUEUED))
    frame: Optional[bytes] = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False


class Hub:
    """Clients by id, and thread-safe publishing to them (see the module docstring)."""

    def __init__(self) -> None:
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.clients: dict[str, Client] = {}
        self._lock = threading.Lock()

    def add(self) -> Client:
        """A new client (call from the event loop)."""
        self.loop = asyncio.get_running_loop()
        c = Client(secrets.token_hex(8))
        with self._lock:
            self.clients[c.id] = c
        return c

    def remove(self, c: Client) -> None:
        c.closed = True
        with self._lock:
            self.clients.pop(c.id, None)

    def _each(self, fn: Any) -> None:
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        with self._lock:
            clients = list(self.clients.values())
        for c in clients:
            try:
                loop.call_soon_threadsafe(fn, c)
            except RuntimeError:  # the loop is shutting down
                return

    def publish(self, msg: dict[str, Any], to: Optional[str] = None) -> None:
        """Queue ``msg`` (JSON-able) for every client, or only for client ``to``."""
        text = json.dumps(msg, default=str)

        def put(c: Client) -> None:
            if to is None or c.id == to:
                c.outbox.append(text)
                c.wake.set()

        self._each(put)

    def publish_frame(self, data: bytes) -> None:
        """Offer a packed frame (:func:`agent.web.frames.pack`) to every client; each keeps only the newest."""

        def put(c: Client) -> None:
            c.frame = data
            c.wake.set()

        self._each(put)

    @staticmethod
    async def pump(c: Client, ws: Any) -> None:
        """Send ``c``'s outbox, then its newest frame, as they come, until the websocket closes."""
        try:
            while not c.closed:
                await c.wake.wait()
                c.wake.clear()
                while c.outbox:
                    await ws.send_text(c.outbox.popleft())
                if c.frame is not None:
                    data, c.frame = c.frame, None
                    await ws.send_bytes(data)
        except Exception:  # noqa: BLE001 - the page went away mid-send; its receive loop ends the connection
            c.closed = True
