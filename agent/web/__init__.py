"""``robocorrect serve``: teach from a browser.

An ASGI app (Starlette, served by uvicorn) over the same :class:`agent.session.TeachingSession` the terminal
drives (``robocorrect sim``): tasks and corrections typed in the page, or spoken with push-to-talk, go onto
the session's :class:`agent.channel.Channel` exactly as typed lines do; the page learns what happened from
the session's events. Parts, one job each:

- ``config``: :class:`ServeConfig`, the settings, validated (a token is required beyond loopback);
- ``security``: the token, Host and Origin checks every HTTP call and websocket passes;
- ``controller``: one robot, its session and the episode thread; who controls it, who watches;
- ``frames``: the camera stream (JPEG frames stamped with the control tick they show);
- ``hub``: fan-out of events and frames to the connected browsers (the newest frame only, never a backlog);
- ``speech_in``: push-to-talk audio (16 kHz PCM WAV from the page) through the project's recogniser;
- ``browse``: read-only episodes, knowledge and policies; ``plot``: the teaching benchmark as an SVG;
- ``app``: the routes; ``serve_cli``: the command; ``bench``: ``robocorrect bench web`` (frame latency in a
  real headless Chromium).

Starlette and uvicorn come with the ``web`` extra (``pip install -e '.[web]'``).
"""
