"""``robocorrect bench web``: what a person watching ``robocorrect serve`` sees, measured in a real headless
Chromium (Debian's ``/usr/bin/chromium`` driven by Playwright; no browser is downloaded).

It starts ``robocorrect serve`` (this checkout, a subprocess, simulated Panda at real time), loads the page,
gives a task ``--episodes`` times and records, for every camera frame drawn while the arm moves, the time from
the control tick the frame shows to the frame's pixels on the page (the page stamps the draw in a
``requestAnimationFrame`` callback after ``drawImage``; same machine, same clock). Then it starts the task once
more, presses the stop button mid-motion and records how many control ticks passed between the stop reaching
the server and the arm halting, and how long until the page showed it.

    robocorrect bench web --json        # last line: {"latency_ms": {"p50", "p95", "mean", "n"}, "fps_moving", ...}

``sim_rate_moving`` is how fast the arm really ran while the frames were measured (simulated seconds per wall
second; 1.0 = real time); ``tick_gap_ms`` the wall time between consecutive control ticks (the session paces
ticks at the robot's ``control_hz``; a render in the server's own process, ``--render thread``, holds the
interpreter lock and delays the next tick).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from hardware.errors import RobocorrectError, UsageError

from agent.web.process import free_port, stop, wait_serving

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TASK = "put the blue block in the yellow bowl"


class WebBenchError(RobocorrectError):
    """The web benchmark cannot run (no Chromium, no Playwright, the server did not start)."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--episodes", type=int, default=2, help="episodes whose moving frames are measured (default 2)")
    parser.add_argument("--task", default=TASK, help=f"the task (default: {TASK!r}, on the seed-0 table)")
    parser.add_argument("--camera", default="scene", help="camera streamed (default scene)")
    parser.add_argument("--frame-size", default="240x180", help="frame size WxH px (default 240x180)")
    parser.add_argument("--fps", type=float, default=12.0, help="the server's frame-rate cap while moving (default 12)")
    parser.add_argument("--render", default="process", choices=("process", "thread"), help="where the server renders (default process)")
    parser.add_argument("--screenshot", default=None, metavar="PNG", help="save a screenshot of the page mid-motion here")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object on the last line")


def _pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))] if s else float("nan")


def _segments(ts: list[float], gap_s: float = 0.5) -> list[list[float]]:
    """Frame times split where the stream paused (between motions)."""
    segs: list[list[float]] = []
    for t in ts:
        if segs and t - segs[-1][-1] <= gap_s:
            segs[-1].append(t)
        else:
            segs.append([t])
    return segs


def _sim_rates(ticks: list[list[float]], hz: float) -> list[float]:
    """Simulated seconds per wall second while a skill moved: control ticks (at ``hz``) per second of
    ``t_step``, over each skill's run (ticks restart at 0 with every skill)."""
    out, seg = [], []
    for t, k in ticks + [[float("inf"), -1]]:
        if k is None:
            continue
        if seg and (k < seg[-1][1] or t - seg[-1][0] > 0.5):
            if len(seg) >= 5 and seg[-1][0] > seg[0][0]:
                out.append((seg[-1][1] - seg[0][1]) / hz / (seg[-1][0] - seg[0][0]))
            seg = []
        seg.append((t, k))
    return out


def run(args: argparse.Namespace) -> int:
    if args.episodes < 1:
        raise UsageError("--episodes must be at least 1")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise WebBenchError("robocorrect bench web needs playwright (pip install playwright; no browser download)") from None
    if not shutil.which(CHROMIUM):
        raise WebBenchError(f"robocorrect bench web needs Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    say = (lambda s: print(s, file=sys.stderr, flush=True)) if args.json else print
    tmp = Path(tempfile.mkdtemp(prefix="robocorrect-web-bench-"))
    port = free_port()
    cmd = [sys.executable, "-m", "agent.cli", "serve", "--port", str(port), "--log", str(tmp / "episodes"),
           "--confirm-wait", "0.5", "--camera", args.camera, "--frame-size", args.frame_size, "--fps", str(args.fps),
           "--render", args.render]
    env = {**os.environ, "ROBOCORRECT_HOME": str(tmp / "home"), "OMP_NUM_THREADS": "1"}
    log = open(tmp / "serve.log", "w")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    load0 = os.getloadavg()
    try:
        up_s = wait_serving(proc, tmp / "serve.log", 180.0)
        say(f"server up in {up_s:.1f} s; measuring {args.episodes} episode(s) in headless Chromium")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                res = _measure(browser.new_page(viewport={"width": 1280, "height": 900}), f"http://127.0.0.1:{port}/", args, say)
            finally:
                browser.close()
    finally:
        stop(proc)
        log.close()
    res["load_average_1m"] = [round(load0[0], 2), round(os.getloadavg()[0], 2)]
    res["cpus"] = os.cpu_count()
    res["command"] = "robocorrect bench web " + " ".join(a for a in sys.argv[3:] if a)
    lat = res["latency_ms"]
    say(f"sim step to pixels while moving: p50 {lat['p50']:.0f} ms, p95 {lat['p95']:.0f} ms over {lat['n']} frames; "
        f"{res['fps_moving']:.1f} frames/s while moving (render+encode p50 {res['render_ms_p50']:.0f} ms; the arm ran at "
        f"{res['sim_rate_moving']}x real time; control ticks {res['tick_gap_ms'].get('p50')} ms apart at p50, "
        f"{res['tick_gap_ms'].get('p99')} ms at p99); "
        f"stop: {res['stop']['ticks_to_halt']} tick(s) to halt, {res['stop']['page_ms']:.0f} ms until the page showed it")
    if args.json:
        print(json.dumps(res), flush=True)
    return 0


def _measure(page: Any, url: str, args: argparse.Namespace, say: Any) -> dict[str, Any]:
    page.goto(url)
    page.wait_for_function("rc.frames >= 1 && rc.role === 'control'", timeout=60_000)
    latencies: list[float] = []
    fps: list[float] = []
    render_ms: list[float] = []
    shot = False
    rates: list[float] = []
    hz = float(page.evaluate("rc.hello.control_hz")) or 60.0
    for i in range(args.episodes):
        page.evaluate("rc.latencies = []; rc.movingFrames = []; rc.renderMs = []; rc.movingTicks = []")
        k = page.evaluate("rc.events.length")
        page.evaluate(f"send({{op: 'text', text: {json.dumps(args.task)}}})")
        if args.screenshot and not shot:
            page.wait_for_selector("[data-testid=plan] li.running", timeout=60_000)
            time.sleep(2.0)
            Path(args.screenshot).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=args.screenshot)
            shot = True
        page.wait_for_function(f"rc.events.slice({k}).some(e => e.kind === 'finished')", timeout=300_000)
        lat = page.evaluate("rc.latencies")
        ts = page.evaluate("rc.movingFrames")
        latencies += lat
        render_ms += page.evaluate("rc.renderMs")
        for seg in _segments(ts):
            if len(seg) >= 5:
                fps.append((len(seg) - 1) / (seg[-1] - seg[0]))
        rates += _sim_rates(page.evaluate("rc.movingTicks"), hz)
        say(f"episode {i + 1}: {len(lat)} moving frames, p50 {_pct(lat, 0.5):.0f} ms")
    # stop mid-motion
    k = page.evaluate("rc.events.length")
    page.evaluate(f"send({{op: 'text', text: {json.dumps(args.task)}}})")
    page.wait_for_function("rc.header && rc.header.moving", timeout=60_000)
    time.sleep(1.0)
    t_click = page.evaluate("Date.now()")
    page.click("[data-testid=stop]")
    page.wait_for_function(f"rc.events.slice({k}).some(e => e.kind === 'stopped')", timeout=60_000)
    t_seen = page.evaluate(f"rc.events.slice({k}).find(e => e.kind === 'stopped').received")
    stop = page.evaluate("rc.state.last_stop")
    tick_gaps = page.evaluate("rc.state.tick_gaps_ms")
    page.evaluate("send({op: 'text', text: 'give up'})")
    n_frames = sum(len(s) for s in [latencies])
    return {
        "latency_ms": {"p50": round(_pct(latencies, 0.5), 1), "p95": round(_pct(latencies, 0.95), 1),
                       "mean": round(sum(latencies) / max(1, n_frames), 1), "n": n_frames},
        "fps_moving": round(sorted(fps)[len(fps) // 2], 2) if fps else 0.0,
        "fps_moving_segments": [round(f, 2) for f in fps],
        "render_ms_p50": round(_pct(render_ms, 0.5), 1),
        "sim_rate_moving": round(_pct(rates, 0.5), 2) if rates else None,
        "tick_gap_ms": tick_gaps,
        "stop": {"ticks_to_halt": (stop.get("halted_tick") or 0) - (stop.get("requested_tick") or 0),
                 "requested_tick": stop.get("requested_tick"), "halted_tick": stop.get("halted_tick"),
                 "page_ms": round(t_seen - t_click, 1)},
        "config": {"episodes": args.episodes, "task": args.task, "camera": args.camera, "frame_size": args.frame_size,
                   "fps_cap": args.fps, "render": args.render, "rate": 1.0},
    }
