"""``robocorrect demo``: a scripted teaching session, headless, end to end.

The scene hides a preference the robot cannot know: the user wants things in the green bowl 3 cm
beyond its centre (further from the robot; a ``placement_pref`` quirk). The robot plans "put the red
block in the green bowl" with the learned policy and starts; a scripted user watches and corrects it
twice:

1. while the arm carries the block to the bowl: "1 cm further forward" — grounded at once, the running
   place motion is re-aimed (``SkillControl.replace_args``);
2. after the block has landed, the user measures how far it still is from the wanted spot and says so
   ("2 cm further forward") — the session rewinds to the pick, takes the block out of the bowl and
   places it again with the new offset;

then says "done". The demo saves one PNG a person can read (``demo_strip.png``): what the user sees from
behind the robot (the user's left is the image's left) at the start and after every step, each frame
labelled with its step, what was said and what it changed; below them, a before / after of the corrected
placement seen from straight above the bowl on a 1 cm grid, with the bowl centre, the wanted spot and where
the block landed. It prints where, prints every change in words and numbers, and exits 0 only when the
episode succeeded (block in the bowl) AND the block sits where the user wanted (within 1 cm).
Frames and units: ``shared/spec/corrections.md`` (left is +y, metres).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

PREF_OFFSET = (0.03, 0.0)  # where the user wants things in the green bowl, relative to its centre (m)
PREF_TOL = 0.01
TASK = "put the red block in the green bowl"
FIRST_WORDS = "1 cm further forward"  # said while the place moves: less than the user wants


def demo_scene(seed: int = 0) -> Any:
    """The demo's table: a red block, a blue block (a distractor) and a green bowl; the seed jitters
    positions by ±1 cm."""
    import random

    from hardware.scene import BOWL_HEIGHT, Quirk, Scene, SceneObject

    rng = random.Random(seed)

    def j() -> float:
        return rng.uniform(-0.01, 0.01)

    return Scene(
        objects=[
            SceneObject("red block", "block", "red", 0.04, (0.45 + j(), -0.12 + j(), 0.02)),
            SceneObject("blue block", "block", "blue", 0.04, (0.62 + j(), -0.18 + j(), 0.02)),
            SceneObject("green bowl", "bowl", "green", 0.16, (0.52 + j(), 0.1 + j(), BOWL_HEIGHT / 2), mass=0.3),
        ],
        quirks=[Quirk("placement_pref", "green bowl", {"offset": list(PREF_OFFSET), "tol": PREF_TOL})],
        seed=seed,
    )


class DemoUser:
    """The demo's person: one correction while the place moves, one after it landed (measured), then "done".

    Used as ``CallbackChannel(DemoUser(world))``; ``said`` lists what it said.
    """

    def __init__(self, world: Any, target: str = "green bowl", obj: str = "red block") -> None:
        self.world, self.target, self.obj = world, target, obj
        self.said: list[str] = []

    def remaining(self) -> tuple[float, float]:
        """Wanted minus actual position of the object relative to the target's centre (m, base frame)."""
        (ox, oy, _), _ = self.world.pose(self.obj)
        (tx, ty, _), _ = self.world.pose(self.target)
        return PREF_OFFSET[0] - (ox - tx), PREF_OFFSET[1] - (oy - ty)

    def __call__(self, ctx: Any) -> str | None:
        n = len(self.said)
        text = None
        if n == 0 and ctx.phase == "moving" and ctx.skill == "place" and ctx.tick >= 15:
            text = FIRST_WORDS
        elif n == 1 and ctx.phase == "after_step" and ctx.skill == "place" and getattr(ctx.outcome, "success", False):
            dx, _ = self.remaining()
            cm = max(0.5, round(abs(dx) * 200) / 2)  # to the nearest half centimetre, as a person would
            text = f"{cm:g} cm further forward" if dx > 0 else f"{cm:g} cm closer to me"
        elif n == 2 and ctx.phase == "idle":
            text = "done"
        if text:
            self.said.append(text)
        return text


class Storyboard:
    """Session listener that labels every saved frame (its step, what was said, what it changed) and takes a
    top view of the bowl after each place (for the before / after panel)."""

    def __init__(self, world: Any, target: str = "green bowl", obj: str = "red block") -> None:
        self.world, self.target, self.obj = world, target, obj
        self.labels: dict[str, str] = {}  # frame path in the log -> caption
        self.said: list[str] = []  # what was said since the last frame
        self.places: list[dict[str, Any]] = []  # after each place: top view, block offset, what was said before

    def __call__(self, ev: Any) -> None:
        from skills.schema import describe_call

        if ev.kind in ("correction", "question", "undo"):
            r = ev.data["result"]
            when = "while moving" if r.during_motion else "after it"
            self.said.append(f"user ({when}): '{r.utterance}' -> " + ("; ".join(c.split(": ", 1)[-1] for c in r.changes) or r.summary()))
        elif ev.kind == "note" and ev.data.get("late_change"):
            self.said.append(ev.message)
        elif ev.kind in ("step_end", "stopped"):
            o = ev.data["outcome"]
            call = {"skill": o["skill"], "args": o.get("args") or {}}
            text = f"step {ev.data['step']}: {describe_call(call)}. " + (o.get("message") or ("ok" if o["success"] else "failed"))
            if self.said:
                text += "\n" + " / ".join(self.said)
                self.said = []
            if ev.data.get("frame"):
                self.labels[ev.data["frame"]] = text
            if o["skill"] == "place":
                self.places.append(self._top(" / ".join(text.split("\n")[1:])))
        elif ev.kind == "plan" and ev.data.get("episode_id"):
            self.labels["start"] = f"start (the user's view, behind the robot): {TASK}"

    def _top(self, said: str) -> dict[str, Any]:
        """A 1 cm grid top view of the target with the wanted spot, the bowl centre and the block marked."""
        import cv2
        import numpy as np

        from sim.camera import top_camera

        size, half = 260, 0.09
        (tx, ty, _), _ = self.world.pose(self.target)
        (ox, oy, oz), _ = self.world.pose(self.obj)
        cam = top_camera((tx, ty), half)
        img = np.ascontiguousarray(self.world.render(cam, size, size)["rgb"])
        z = oz
        px = lambda pts: [tuple(int(round(v)) for v in q) for q in self.world.cameras.project(cam, [(x, y, z) for x, y in pts], size, size)]  # noqa: E731
        for k in range(-8, 9):
            c = (150, 150, 150) if k else (60, 60, 60)
            (a, b) = px([(tx + k / 100, ty - half), (tx + k / 100, ty + half)])
            cv2.line(img, a, b, c, 1)
            (a, b) = px([(tx - half, ty + k / 100), (tx + half, ty + k / 100)])
            cv2.line(img, a, b, c, 1)
        (want,) = px([(tx + PREF_OFFSET[0], ty + PREF_OFFSET[1])])
        (block,) = px([(ox, oy)])
        cv2.circle(img, want, 8, (30, 60, 255), 2)
        cv2.drawMarker(img, block, (255, 255, 255), cv2.MARKER_CROSS, 16, 4)
        cv2.drawMarker(img, block, (0, 0, 0), cv2.MARKER_CROSS, 14, 2)
        dx, dy = ox - tx, oy - ty
        return {"image": img, "dx": dx, "dy": dy, "said": said}

    def before_after(self) -> Any:
        """Two top views side by side: after the first place and after the last, captioned in centimetres."""
        import numpy as np

        from sim.camera import caption

        if len(self.places) < 2:
            return None
        panels = []
        for name, p in (("before", self.places[0]), ("after", self.places[-1])):
            text = (f"{name}: the block's centre (cross) is {100 * p['dx']:+.1f} cm forward, {100 * p['dy']:+.1f} cm left "
                    f"of the bowl centre (dark lines); the user wants {100 * PREF_OFFSET[0]:+.1f} cm forward (blue ring). "
                    f"Grid: 1 cm; seen from above, forward is up, the user's left is left")
            panels.append(caption(p["image"], text, lines=5))
        return np.hstack([panels[0], np.full((panels[0].shape[0], 8, 3), 255, np.uint8), panels[1]])


def compose(strip: Any, panel: Any) -> Any:
    """The frame strip with the before / after panel centred below it."""
    import numpy as np

    if panel is None:
        return strip
    w = max(strip.shape[1], panel.shape[1])
    pad = lambda im: np.pad(im, ((0, 0), ((w - im.shape[1]) // 2, w - im.shape[1] - (w - im.shape[1]) // 2), (0, 0)), constant_values=255)  # noqa: E731
    return np.vstack([pad(strip), np.full((10, w, 3), 255, np.uint8), pad(panel)])


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="runs/demo", help="folder for the image strip and the episode log (default runs/demo)")
    parser.add_argument("--seed", type=int, default=0, help="jitters the object positions (default 0)")
    from agent.factory import add_policy_arguments

    add_policy_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import cv2

    from agent.channel import CallbackChannel
    from agent.factory import parse_policy_args, policy_from_args
    from agent.policy import PolicyError
    from agent.session import SessionConfig, TeachingSession
    from memory.episodes import EpisodeLog
    from sim.camera import save_strip
    from sim.world import SimWorld

    parse_policy_args(args.policy_arg, args.policy)  # a bad --policy-arg is one error line, before anything is written
    t0 = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    scene = demo_scene(args.seed)
    print(f"scene: {', '.join(o.name for o in scene.objects)}  (hidden: the user wants things in the green bowl "
          f"{100 * PREF_OFFSET[0]:.0f} cm beyond its centre)")
    print(f"task:  {TASK}")
    try:
        policy = policy_from_args(args)
    except PolicyError as e:
        print(f"error: cannot load policy {args.policy!r}: {e}", file=sys.stderr)
        return 2
    world = SimWorld(scene)
    log = EpisodeLog(out / "episodes")
    try:
        session = TeachingSession.for_sim(world, policy, log=log, config=SessionConfig(frame_size=(320, 240), frame_camera="user"))
        board = Storyboard(world)
        session.subscribe(board)

        def show(ev: Any) -> None:
            if ev.kind == "plan":
                print(ev.message)
            elif ev.kind == "step_start":
                print(f"  ▶ {ev.message}")
            elif ev.kind in ("step_end", "stopped"):
                print(f"    {ev.message}")
            elif ev.kind in ("correction", "question", "undo"):
                r = ev.data["result"]
                when = " (while the arm moves)" if r.during_motion else ""
                print(f"  user{when}: {r.utterance!r}")
                print(f"    → {r.summary()}")
            elif ev.kind == "finished":
                print(f"episode {ev.data['episode_id']}: {ev.data['status']}")

        session.subscribe(show)
        user = DemoUser(world)
        summary = session.run_episode(TASK, CallbackChannel(user, source="demo_user"), scene=scene)
        ex, ey = user.remaining()
        dx, dy = PREF_OFFSET[0] - ex, PREF_OFFSET[1] - ey
        pref_ok = abs(ex) <= PREF_TOL and abs(ey) <= PREF_TOL
        rec = log.load(summary.episode_id)
        # the start and every step's frame, labelled (the end frame repeats the last step's, so it is left out)
        shown = [f for f in rec["frame_info"] if f["label"] != "end"]
        frames = [cv2.cvtColor(cv2.imread(str(log.media_path(f["path"]))), cv2.COLOR_BGR2RGB) for f in shown]
        labels = [board.labels.get(f["path"], board.labels.get(f["label"], f["label"])) for f in shown]
        strip = None
        if frames:
            strip = save_strip(frames, out / "demo_strip.png", max_per_row=min(6, len(frames)), labels=labels, label_lines=4)
            img = compose(cv2.cvtColor(cv2.imread(str(strip)), cv2.COLOR_BGR2RGB), board.before_after())
            cv2.imwrite(str(strip), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        changes = [c for corr in rec["corrections"] for c in corr["changes"]]
        n_motion = sum(1 for c in rec["corrections"] if c["during_motion"])
        print("changes: " + ("; ".join(changes) if changes else "none"))
        print(f"block ended {100 * dx:+.1f} cm x, {100 * dy:+.1f} cm y from the bowl centre "
              f"(wanted {100 * PREF_OFFSET[0]:+.1f}, {100 * PREF_OFFSET[1]:+.1f}; {'ok' if pref_ok else 'NOT where the user wanted'})")
        if strip:
            print(f"image strip: {strip.resolve()}")
        print(f"episode log: {log.root.resolve()} (robocorrect episodes --log {log.root} show {summary.episode_id})")
        ok = bool(summary.success) and pref_ok and len(rec["corrections"]) >= 2 and n_motion >= 1
        lat = [c.latency_s for c in session.corrections if c.changed]
        if lat:
            print(f"correction handled in {', '.join(f'{1000 * x:.0f}' for x in lat)} ms (grounding + re-planning)")
        print(f"{'SUCCESS' if ok else 'FAILED'}: {summary.steps} steps, {len(rec['corrections'])} corrections "
              f"({n_motion} during motion), {time.perf_counter() - t0:.1f} s")
        return 0 if ok else 1
    finally:
        log.close()
        world.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point for tests: ``main(["--out", str(tmp_path)])``."""
    parser = argparse.ArgumentParser(prog="robocorrect demo", description=__doc__.splitlines()[0])
    configure(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
