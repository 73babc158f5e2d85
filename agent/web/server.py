"""Builds what ``robocorrect serve`` serves (:class:`WebServer`): the robot and its world, the teaching session
(the terminal's, :class:`agent.session.TeachingSession`), the controller, the camera stream, the read-only
browser and the ASGI app; :meth:`WebServer.serve` runs it under uvicorn until interrupted."""
from __future__ import annotations

import threading
from typing import Any, Callable, Optional

from agent.web.config import ServeConfig, WebError
from hardware.errors import UsageError


class WebServer:
    """Everything one ``robocorrect serve`` holds; :meth:`close` releases it (world, log, knowledge base)."""

    def __init__(self, cfg: ServeConfig, say: Callable[[str], None] = print) -> None:
        from agent.web.browse import Browser
        from agent.web.controller import RobotController
        from agent.web.frames import FrameStreamer
        from agent.web.hub import Hub
        from agent.web.speech_in import PushToTalk

        self.config, self.say = cfg, say
        self._closers: list[Callable[[], None]] = []
        self.hub = Hub()
        try:
            session, robot, world, scene, make_scene, log, kb = self._build_robot(cfg)
            self.controller = RobotController(session, robot, world, scene, self.hub.publish, make_scene=make_scene,
                                              seed=cfg.seed, kind="sim" if cfg.robot == "sim" else cfg.robot,
                                              memory="on" if kb is not None else "off")
            self.streamer = FrameStreamer(self._camera(world, cfg), robot, cfg.frame_size, cfg.fps, cfg.idle_fps,
                                          moving=lambda: session.running is not None, publish=self.hub.publish_frame)
            session.tick_listeners.append(self.streamer.on_tick)
            self.controller.on_scene = self.streamer.poke
            self.browser = Browser(log, kb=kb, kb_path=cfg.kb if cfg.kb and cfg.kb.lower() != "default" else None,
                                   bench=cfg.bench)
            self.voice = PushToTalk(cfg.speech_min_confidence)
        except BaseException:
            self.close()
            raise
        from agent.web.app import create_app

        self.app = create_app(self)
        self._uvicorn: Any = None

    @staticmethod
    def _camera(world: Any, cfg: ServeConfig) -> Any:
        """A render process mirroring a simulated world; ``World.render`` in a thread for any other world."""
        from agent.web.cameras import MirrorCamera, WorldCamera

        if cfg.render == "process" and type(world).__name__ == "SimWorld":
            return MirrorCamera(world, cfg.camera, cfg.frame_size)
        return WorldCamera(world, cfg.camera, cfg.frame_size)

    def _build_robot(self, cfg: ServeConfig) -> tuple[Any, ...]:
        from agent.factory import make_policy
        from agent.session import SessionConfig, TeachingSession
        from memory.episodes import EpisodeLog

        policy = make_policy(cfg.policy)
        kb = None
        if cfg.kb and cfg.kb.lower() != "none":
            from memory.kb_cli import open_kb

            kb = open_kb(None if cfg.kb.lower() == "default" else cfg.kb, create=True)
            self._closers.append(kb.close)
        log = EpisodeLog(cfg.log)
        self._closers.append(log.close)
        scfg = SessionConfig(frames=True, confirm_wait_s=cfg.confirm_wait_s, real_time_factor=cfg.rate)
        if cfg.robot == "sim":
            from hardware.scene import Scene, SceneError
            from sim.scene import random_scene
            from sim.world import SimWorld, WorldConfig

            def make_scene(seed: int) -> Scene:
                return random_scene(seed, n_blocks=2, n_bowls=2)

            try:
                scene = Scene.load(cfg.scene) if cfg.scene else make_scene(cfg.seed)
            except SceneError as e:
                raise UsageError(str(e)) from None
            world = SimWorld(scene, WorldConfig())
            self._closers.append(world.close)
            session = TeachingSession.for_sim(world, policy, kb=kb, log=log, config=scfg)
            return session, world.robot, world, scene, (None if cfg.scene else make_scene), log, kb
        return self._build_configured(cfg, policy, kb, log, scfg)

    def _build_configured(self, cfg: ServeConfig, policy: Any, kb: Any, log: Any, scfg: Any) -> tuple[Any, ...]:
        """A robot config file (``robocorrect robot``'s): its arm behind the safety layer, its world."""
        from agent.robot_cli import _close, _make_world, build_robot
        from agent.session import TeachingSession
        from hardware.config import load_robot_file
        from hardware.safe_robot import SafeRobot

        rf = load_robot_file(cfg.robot)
        arm, sim_world = build_robot(rf)
        limits = rf.safety_limits()
        if sim_world is not None:
            limits.watchdog_s = 0  # the simulation waits for its next command; a slow CPU is no stalled arm
        robot = SafeRobot(arm, limits)
        self._closers.append(lambda: _close(robot, sim_world))
        robot.connect()
        if sim_world is not None:
            if cfg.scene:
                from hardware.scene import Scene

                sim_world.load(Scene.load(cfg.scene))
            world, scene = sim_world, sim_world.scene
        else:
            world, scene = _make_world(rf, robot, cfg.scene)
        session = TeachingSession(robot, world, policy, kb=kb, log=log, scene=scene, config=scfg)
        return session, robot, world, scene, None, log, kb

    # --- running ---------------------------------------------------------------------------------
    def serve(self, ready: Optional[Callable[[], None]] = None) -> None:
        """Listen until interrupted (Ctrl-C) or :meth:`shutdown`."""
        import uvicorn

        from agent.web.app import MAX_MESSAGE

        uc = uvicorn.Config(self.app, host=self.config.host, port=self.config.port, log_level="warning",
                            ws_max_size=MAX_MESSAGE, lifespan="off", access_log=False)
        self._uvicorn = srv = uvicorn.Server(uc)
        self.streamer.start()
        if ready is not None:
            threading.Thread(target=self._when_started, args=(ready,), daemon=True).start()
        try:
            srv.run()
        except SystemExit:  # uvicorn exits when it cannot bind
            srv.started = False
        if not srv.started:
            raise WebError(f"could not listen on {self.config.host}:{self.config.port} (in use, or not an address here)")

    def _when_started(self, ready: Callable[[], None]) -> None:
        import time

        while self._uvicorn is not None and not self._uvicorn.started and not self._uvicorn.should_exit:
            time.sleep(0.05)
        if self._uvicorn is not None and self._uvicorn.started:
            ready()

    def shutdown(self) -> None:
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True

    def close(self) -> None:
        """Stop the episode (if one runs), the camera, and release the world, the log and the knowledge base."""
        ctl = getattr(self, "controller", None)
        if ctl is not None and ctl.busy() and ctl.channel is not None:
            ctl.channel.put("stop")
            ctl.channel.put("give up")
            ctl.channel.close()
            if ctl.worker is not None:
                ctl.worker.join(timeout=10)
        streamer = getattr(self, "streamer", None)
        if streamer is not None:
            streamer.close()
        for fn in reversed(self._closers):
            try:
                fn()
            except Exception:  # noqa: BLE001 - release the rest
                pass
        self._closers.clear()
