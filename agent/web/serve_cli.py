"""``robocorrect serve``: teach from a browser (see :mod:`agent.web`).

    robocorrect serve                                   # the simulated arm at http://127.0.0.1:8000/
    robocorrect serve --robot robot.toml --scene t.json # an arm from a robot config file
    robocorrect serve --host 0.0.0.0 --token auto       # reachable from other machines: a token is required

Prints the address to open (with the token) and serves until Ctrl-C. Errors are one ``error:`` line
(exit 2 for a bad option, such as another address than loopback without a token).
"""
from __future__ import annotations

import argparse
import socket
import sys

from agent.web.config import ServeConfig, WebError
from hardware.errors import UsageError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--robot", default="sim", help="'sim' (default) or a robot config file (TOML, see robocorrect robot)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--token", default=None,
                        help="secret every request must carry; required beyond loopback; 'auto' draws one "
                             "(default $ROBOCORRECT_WEB_TOKEN)")
    parser.add_argument("--origin", action="append", default=[], metavar="URL",
                        help="another browser origin allowed to call the server (repeatable)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random table (default 0)")
    parser.add_argument("--scene", default=None, help="a scene JSON file (hardware.scene.Scene) instead of a random table")
    parser.add_argument("--policy", default="embedded", help="policy name (agent.factory.make_policy)")
    parser.add_argument("--kb", default=None, metavar="DIR", help="knowledge base folder: memory on ('default' for the default one)")
    parser.add_argument("--log", default=None, help="episode log folder (default $ROBOCORRECT_HOME/episodes)")
    parser.add_argument("--camera", default="scene",
                        help="camera streamed: scene (facing the robot, default), user (from behind it) or wrist")
    parser.add_argument("--render", default="process", choices=("process", "thread"),
                        help="render the simulated camera in a child process (default) or in a thread of the server")
    parser.add_argument("--frame-size", default="240x180", metavar="WxH", help="streamed frame size in px (default 240x180)")
    parser.add_argument("--fps", type=float, default=12.0, help="frames per second while the arm moves (default 12)")
    parser.add_argument("--rate", type=float, default=1.0, help="simulated seconds per wall-clock second (default 1: real time)")
    parser.add_argument("--confirm-wait", type=float, default=6.0,
                        help="seconds a held goal waits for a last correction before the episode ends (default 6)")
    parser.add_argument("--bench", action="append", default=[], metavar="FILE",
                        help="a bench teach result (teach_results.json or its --json output) to plot (repeatable)")


def config_from(args: argparse.Namespace) -> ServeConfig:
    try:
        w, h = (int(v) for v in args.frame_size.lower().split("x"))
    except ValueError:
        raise UsageError(f"--frame-size must be WIDTHxHEIGHT, e.g. 240x180, got {args.frame_size!r}") from None
    return ServeConfig(robot=args.robot, host=args.host, port=args.port, token=args.token, origins=tuple(args.origin),
                       seed=args.seed, scene=args.scene, policy=args.policy, kb=args.kb, log=args.log, camera=args.camera,
                       frame_size=(w, h), fps=args.fps, rate=args.rate, confirm_wait_s=args.confirm_wait, render=args.render,
                       bench=tuple(args.bench))


def check_port(host: str, port: int) -> None:
    """Fail early (before loading the robot) when the address cannot be listened on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            raise WebError(f"cannot listen on {host}:{port}: {e.strerror}") from None


def run(args: argparse.Namespace) -> int:
    cfg = config_from(args)
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise UsageError("robocorrect serve needs the web extra: pip install -e '.[web]'") from None
    check_port(cfg.host, cfg.port)
    from agent.web.server import WebServer

    print("loading the robot and the policy…", flush=True)
    server = WebServer(cfg)
    where = "this machine only" if cfg.loopback else f"{cfg.host}: other machines can reach it with the token"
    try:
        server.serve(ready=lambda: print(f"serving on {where}; open {cfg.url()}" +
                                         (" (token drawn for this run)" if cfg.token_generated else ""), flush=True))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
    finally:
        server.close()
    return 0
