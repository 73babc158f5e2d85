"""The checks every HTTP call and websocket passes before it reaches a route (an ASGI middleware).

1. **Host** (DNS rebinding): bound to a loopback address, the ``Host`` header must name this machine
   (localhost, 127.0.0.1 or [::1]) at our port.
2. **Origin** (cross-site requests): a browser request that carries an ``Origin`` must come from the page's own
   origin (``http://<Host>``) or one listed in ``ServeConfig.origins``; 'null' origins are refused. Clients
   that send no ``Origin`` (curl, scripts) are not browsers and are judged by the token alone.
3. **Token**: when the server has one (always, beyond loopback), ``Authorization: Bearer T``,
   ``X-Robocorrect-Token: T``, ``?token=T`` or the page's cookie must carry it (compared in constant time).
   The page is opened once with ``?token=T``; its answer sets an HttpOnly, SameSite=Strict cookie
   (:func:`cookie_name`) so that the page's own script, style and images load without the token in their
   addresses; SameSite=Strict keeps other sites' pages from sending it.

A refused HTTP call gets one JSON ``{"error": ...}`` with 403 (401 for the token); a refused websocket is
closed before it is accepted (the browser sees a failed handshake). Nothing behind a refused request runs.
"""
from __future__ import annotations

import hmac
import json
from http.cookies import CookieError, SimpleCookie
from typing import Any, Awaitable, Callable, Optional
from urllib.parse import parse_qs

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
LOCAL_NAMES = ("localhost", "127.0.0.1", "[::1]")


def cookie_name(port: int) -> str:
    """The page's token cookie (per port: cookies are shared between the ports of one host)."""
    return f"rc_token_{port}"


class Guard:
    """Decides whether one request may pass (see the module docstring)."""

    def __init__(self, token: Optional[str], loopback: bool, port: int, origins: tuple[str, ...] = ()) -> None:
        self.token, self.loopback, self.port, self.origins = token, loopback, port, tuple(origins)

    def check(self, scope: Scope) -> Optional[tuple[int, str]]:
        """None when the request may pass, else (HTTP status, reason)."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        if self.loopback and not self._local_host(host):
            return 403, f"host {host!r} is not this machine; open the page at http://127.0.0.1:{self.port}/"
        origin = headers.get("origin")
        if origin is not None and not self._origin_ok(origin, host):
            return 403, f"requests from {origin!r} are not allowed (only from the page itself)"
        if self.token:
            given = self._token_of(scope, headers)
            if given is None:
                return 401, "this server needs its token (?token=... in the page address, or an Authorization: Bearer header)"
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                return 401, "wrong token"
        return None

    def _local_host(self, host: str) -> bool:
        name, _, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
        if not name:  # no port in the header
            name, port = host, ""
        return name.lower() in LOCAL_NAMES and (port in ("", str(self.port)))

    def _origin_ok(self, origin: str, host: str) -> bool:
        if origin in self.origins:
            return True
        return bool(host) and origin in (f"http://{host}", f"https://{host}")

    def _token_of(self, scope: Scope, headers: dict[str, str]) -> Optional[str]:
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        if "x-robocorrect-token" in headers:
            return headers["x-robocorrect-token"].strip()
        q = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        vals = q.get("token")
        if vals:
            return vals[0]
        cookies = SimpleCookie()
        try:
            cookies.load(headers.get("cookie", ""))
        except CookieError:
            return None
        c = cookies.get(cookie_name(self.port))
        return c.value if c is not None else None


class GuardMiddleware:
    """ASGI middleware: every ``http`` and ``websocket`` scope passes :meth:`Guard.check` first."""

    def __init__(self, app: Callable[..., Awaitable[None]], guard: Guard) -> None:
        self.app, self.guard = app, guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refused = self.guard.check(scope)
        if refused is None:
            await self.app(scope, receive, send)
            return
        status, reason = refused
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 4000 + status, "reason": reason[:120]})
            return
        body = json.dumps({"error": reason}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
