"""The routes (Starlette). Everything passes :class:`agent.web.security.GuardMiddleware` first.

    GET  /                              the page (agent/web/static/index.html)
    GET  /static/...                    its script and style
    GET  /api/state                     the robot: task, plan, running step, objects, knowledge, who controls
    GET  /api/episodes[/ID[/frames/N]]  logged episodes, one episode, one of its frames (PNG)
    GET  /api/knowledge[/ID]            knowledge entries, one entry
    GET  /api/policies                  the policy registry
    GET  /api/bench[/N[.svg]]           teaching-benchmark result files, one as JSON or as an SVG plot
    WS   /ws                            events, state and camera frames out; commands and push-to-talk audio in

Websocket, page -> server: text ``{"op": "text", "text": ...}`` (a task, or a correction while an episode
runs), ``{"op": "stop"}``, ``{"op": "new", "seed": N}``, ``{"op": "take"}``, ``{"op": "release"}``,
``{"op": "state"}``; binary: one push-to-talk recording (16 kHz mono 16-bit PCM WAV). Server -> page: text
``{"type": "hello" | "state" | "event" | "control" | "question" | "heard" | "info" | "error", ...}``; binary:
camera frames (:func:`agent.web.frames.pack`). Every refused input is one ``{"type": "error", "error": ...}``
(HTTP: ``{"error": ...}`` with a 4xx status) and changes nothing.
"""
from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from agent.web.browse import BadRequest, NotFound, load_bench
from agent.web.controller import CommandError, jsonable
from agent.web.plot import teach_svg
from agent.web.security import Guard, GuardMiddleware, cookie_name
from agent.web.speech_in import AudioRejected

STATIC = Path(__file__).resolve().parent / "static"
MAX_MESSAGE = 4 * 1024 * 1024  # bytes of one websocket message (a 30 s recording is ~1 MB)
NO_CACHE = {"cache-control": "no-store"}


def _error(status: int, msg: str) -> JSONResponse:
    return JSONResponse({"error": msg}, status_code=status)


def create_app(server: Any) -> Any:
    """The ASGI app over ``server`` (:class:`agent.web.server.WebServer`: controller, hub, browser, voice)."""
    ctl, hub, browser, cfg = server.controller, server.hub, server.browser, server.config

    def guarded(fn: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                out = await asyncio.to_thread(fn, request)
            except BadRequest as e:
                return _error(400, str(e))
            except NotFound as e:
                return _error(404, str(e))
            return out if isinstance(out, Response) else JSONResponse(jsonable(out), headers=NO_CACHE)
        return endpoint

    async def index(request: Request) -> Response:
        r = FileResponse(STATIC / "index.html", headers=NO_CACHE)
        if cfg.token:  # the guard let this request in, so it carried the token: the page's own loads carry it on
            r.set_cookie(cookie_name(cfg.port), cfg.token, httponly=True, samesite="strict", path="/")
        return r

    def episode_frame(r: Request) -> Response:
        return FileResponse(browser.frame_path(r.path_params["eid"], r.path_params["n"]), media_type="image/png")

    def bench_one(r: Request) -> Any:
        name = r.path_params["n"]
        if name.endswith(".svg"):
            return Response(teach_svg(browser.bench(name[:-4])), media_type="image/svg+xml", headers=NO_CACHE)
        return browser.bench(name)

    async def ws_endpoint(ws: WebSocket) -> None:
        await ws.accept()
        client = hub.add()
        role = ctl.join(client.id)
        pump = asyncio.create_task(hub.pump(client, ws))
        hub.publish({"type": "hello", "client": client.id, "role": role, "token_required": bool(cfg.token),
                     "message": ("you control the robot" if role == "control" else
                                 "watching: another page controls this robot; you see everything it does"),
                     "camera": {"name": cfg.camera, "size": list(cfg.frame_size), "fps": cfg.fps},
                     "speech": server.voice.available() is None,
                     "control_hz": float(getattr(getattr(ctl.robot, "config", None), "control_hz", 0.0) or 0.0), **{"state": ctl.snapshot()}}, to=client.id)
        server.streamer.poke()
        try:
            while True:
                m = await ws.receive()
                if m["type"] == "websocket.disconnect":
                    break
                reply = await handle(client.id, m)
                if reply is not None:
                    hub.publish(reply, to=client.id)
        except WebSocketDisconnect:
            pass
        finally:
            hub.remove(client)
            client.wake.set()
            pump.cancel()
            ctl.leave(client.id)

    async def handle(client: str, m: dict[str, Any]) -> Any:
        data, text = m.get("bytes"), m.get("text")
        try:
            if data is not None:
                if len(data) > MAX_MESSAGE:
                    raise CommandError("a recording is at most 4 MB")
                ctl.require_control(client)
                heard = await asyncio.to_thread(server.voice.transcribe, data, ctl.scene)
                hub.publish({"type": "heard", "text": heard.text, "confidence": round(heard.confidence, 3),
                             "accepted": heard.accepted, "message": heard.message})
                return await asyncio.to_thread(ctl.text, heard.text, "voice") if heard.accepted else None
            if text is None or len(text) > 64 * 1024:
                raise CommandError("a command is one JSON text message of at most 64 KB")
            try:
                msg = json.loads(text)
            except json.JSONDecodeError:
                raise CommandError("a command must be JSON, e.g. {\"op\": \"text\", \"text\": \"a bit to the left\"}") from None
            return await asyncio.to_thread(ctl.command, client, msg)
        except (CommandError, AudioRejected) as e:
            return {"type": "error", "error": str(e)}

    routes = [
        Route("/", index),
        Route("/api/state", guarded(lambda r: ctl.snapshot())),
        Route("/api/episodes", guarded(lambda r: browser.episodes())),
        Route("/api/episodes/{eid}", guarded(lambda r: browser.episode(r.path_params["eid"]))),
        Route("/api/episodes/{eid}/frames/{n}", guarded(episode_frame)),
        Route("/api/knowledge", guarded(lambda r: browser.knowledge())),
        Route("/api/knowledge/{kid}", guarded(lambda r: browser.knowledge_entry(r.path_params["kid"]))),
        Route("/api/policies", guarded(lambda r: browser.policy_registry())),
        Route("/api/bench", guarded(lambda r: browser.bench_list())),
        Route("/api/bench/{n}", guarded(bench_one)),
        WebSocketRoute("/ws", ws_endpoint),
        Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        return _error(getattr(exc, "status_code", 404), getattr(exc, "detail", "not found"))

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})
    guard = Guard(cfg.token, cfg.loopback, cfg.port, cfg.origins)
    return GuardMiddleware(app, guard)


__all__ = ["create_app", "load_bench"]
