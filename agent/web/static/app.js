// robocorrect serve: the page. Plain JS, no build step. Everything the server sends is shown with
// textContent (never as HTML). window.rc holds what tests and `robocorrect bench web` read.
"use strict";

const rc = window.rc = {
  frames: 0, movingFrames: [], latencies: [], renderMs: [], movingTicks: [], tcpLog: [], header: null, state: null, role: null,
  client: null, events: [], errors: [], connected: false,
};

// --- the token: from ?token= once, then kept in this tab only and removed from the address bar ----------
(function takeToken() {
  const q = new URLSearchParams(location.search);
  if (q.has("token")) {
    sessionStorage.setItem("rc-token", q.get("token"));
    q.delete("token");
    history.replaceState(null, "", location.pathname + (q.toString() ? "?" + q : "") + location.hash);
  }
})();
const token = () => sessionStorage.getItem("rc-token") || "";
const withToken = (url) => token() ? url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token()) : url;

async function api(path) {
  const r = await fetch(path, { headers: token() ? { "Authorization": "Bearer " + token() } : {} });
  const body = (r.headers.get("content-type") || "").includes("json") ? await r.json() : await r.text();
  if (!r.ok) throw new Error(body && body.error ? body.error : r.status + " " + r.statusText);
  return body;
}

const $ = (id) => document.getElementById(id);
function el(tag, text, cls) { const e = document.createElement(tag); if (text != null) e.textContent = text; if (cls) e.className = cls; return e; }
function clear(n) { while (n.firstChild) n.removeChild(n.firstChild); }
function banner(text, kind) { const b = $("banner"); b.textContent = text || ""; b.className = "banner" + (kind ? " " + kind : "") + (text ? "" : " hidden"); }
function say(text, cls) {
  const li = el("li", text, cls); const m = $("messages"); m.appendChild(li);
  while (m.children.length > 200) m.removeChild(m.firstChild);
  m.scrollTop = m.scrollHeight;
}

// --- websocket ---------------------------------------------------------------------------------------
let ws = null;
function connect() {
  const proto = location.protocol === "https:" ? "wss://" : "ws://";
  ws = new WebSocket(withToken(proto + location.host + "/ws"));
  ws.binaryType = "arraybuffer";
  ws.onopen = () => { rc.connected = true; $("conn").textContent = "connected"; };
  ws.onclose = (e) => {
    rc.connected = false; $("conn").textContent = "disconnected";
    if (e.code >= 4000) { banner("refused: " + (e.reason || e.code), "error"); return; }
    setTimeout(connect, 1500);
  };
  ws.onmessage = (m) => { if (typeof m.data === "string") onMessage(JSON.parse(m.data)); else onFrame(m.data); };
}
function send(obj) {
  if (!ws || ws.readyState !== 1) { banner("not connected", "error"); return false; }
  ws.send(JSON.stringify(obj)); return true;
}

// --- camera frames ------------------------------------------------------------------------------------
const canvas = $("camera"), ctx = canvas.getContext("2d");
let fpsCount = 0, fpsT0 = performance.now();
async function onFrame(buf) {
  const n = new DataView(buf).getUint32(0);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, n)));
  const bmp = await createImageBitmap(new Blob([new Uint8Array(buf, 4 + n)], { type: "image/jpeg" }));
  if (canvas.width !== bmp.width) { canvas.width = bmp.width; canvas.height = bmp.height; }
  ctx.drawImage(bmp, 0, 0);
  bmp.close();
  requestAnimationFrame(() => {
    const drawn = Date.now() / 1000;
    const lat = 1000 * (drawn - header.t_step);
    rc.frames += 1; rc.header = header;
    if (header.moving) { rc.latencies.push(lat); rc.renderMs.push(header.render_ms); rc.movingTicks.push([header.t_step, header.tick]); rc.movingFrames.push(drawn); if (rc.latencies.length > 5000) rc.latencies.shift(); if (rc.movingFrames.length > 5000) rc.movingFrames.shift(); }
    rc.tcpLog.push({ t: drawn, tcp: header.tcp, moving: header.moving, tick: header.tick });
    if (rc.tcpLog.length > 5000) rc.tcpLog.shift();
    fpsCount += 1;
    const now = performance.now();
    if (now - fpsT0 > 1000) { $("fps").textContent = (1000 * fpsCount / (now - fpsT0)).toFixed(1) + " fps"; fpsCount = 0; fpsT0 = now; }
    $("latency").textContent = "step→pixels " + lat.toFixed(0) + " ms";
    const [x, y, z] = header.tcp;
    $("tcp").textContent = `arm at x ${(100 * x).toFixed(1)} y ${(100 * y).toFixed(1)} z ${(100 * z).toFixed(1)} cm` + (header.moving ? " (moving)" : "");
  });
}

// --- messages ---------------------------------------------------------------------------------------
function onMessage(m) {
  if (m.type === "hello") {
    rc.client = m.client; rc.hello = m; setRole(m.role, m.message);
    const notes = { scene: "camera facing the robot: the robot's left (+y) is on the image's right",
                    user: "camera behind the robot, where you stand: its left is your left", wrist: "wrist camera" };
    $("camnote").textContent = notes[m.camera.name] || "";
    $("ptt").disabled = !m.speech; if (!m.speech) $("ptt").title = "speech is not installed on the server";
    renderState(m.state);
  } else if (m.type === "state") {
    renderState(m);
  } else if (m.type === "event") {
    m.received = Date.now(); rc.events.push(m); onEvent(m);
  } else if (m.type === "control") {
    setRole(m.controller === rc.client ? "control" : "watch", m.message, m.controller === null);
  } else if (m.type === "question") {
    say("you: " + m.utterance, "you"); say("robot: " + m.question, "question");
  } else if (m.type === "heard") {
    $("heard").textContent = m.message;
  } else if (m.type === "info") {
    say(m.message, "muted");
  } else if (m.type === "error") {
    rc.errors.push(m.error); banner("error: " + m.error, "error"); setTimeout(() => banner(""), 6000);
  }
}

function setRole(role, message, free) {
  rc.role = role;
  const r = $("role"); r.textContent = role === "control" ? "you control the robot" : "watching"; r.className = "pill " + role;
  const ctl = role === "control";
  for (const id of ["text", "send", "stop", "newscene"]) $(id).disabled = !ctl;
  if (!ctl) $("ptt").disabled = true; else $("ptt").disabled = false;
  $("take").classList.toggle("hidden", ctl || !free);
  banner(ctl ? "" : (message || "watching: another page controls this robot"), ctl ? "" : "watch");
}

const lastChange = { li: null, step: null };
function onEvent(m) {
  const k = m.kind, d = m.data || {};
  if (k === "correction" || k === "undo") {
    const r = d.result;
    say("you: " + r.utterance + (r.during_motion ? " (while moving)" : ""), "you");
    say("robot: " + r.summary);
    const li = el("li"); li.dataset.kind = k;
    li.appendChild(el("span", r.utterance + (r.during_motion ? " (while moving)" : ""), "utt"));
    if (r.changes.length) for (const c of r.changes) li.appendChild(el("span", c, "chg"));
    else li.appendChild(el("span", r.action === "stop" ? "stop" : r.action === "finish" ? "episode ended" : "no change", "chg"));
    $("changes").appendChild(li); $("changes").scrollTop = 1e9;
    if (r.changes.length) { lastChange.li = li; lastChange.step = r.step; }
  } else if (k === "question") {
    say("you: " + d.result.utterance, "you"); say("robot: " + d.result.question, "question");
  } else if (k === "step_end" || k === "stopped") {
    say(m.message, k === "stopped" ? "question" : "");
    if (lastChange.li && d.step >= lastChange.step) {
      lastChange.li.appendChild(el("span", "effect: " + m.message, "eff")); lastChange.li = null;
    }
  } else if (k === "knowledge") {
    say("memory: " + m.message);
  } else if (k === "plan") {
    say(m.message);
  } else if (k === "waiting" || k === "note" || k === "finished") {
    say((k === "waiting" ? "robot: " : "") + m.message, k === "finished" ? "you" : "muted");
  }
}

function renderState(s) {
  rc.state = s;
  $("memory").textContent = "memory " + s.memory;
  $("task").textContent = s.task || "—";
  const st = $("status"); st.textContent = s.busy ? (s.running_step != null ? "moving" : s.paused ? "waiting for you" : "running") : (s.status || "idle");
  const plan = $("plan"); clear(plan);
  (s.plan || []).forEach((c, i) => {
    const args = c.args || {};
    const bits = [];
    if (args.object) bits.push(args.object);
    if (args.target) bits.push("→ " + args.target);
    if (args.offset && args.offset.some((v) => Math.abs(v) > 1e-6)) bits.push("offset " + args.offset.map((v) => (100 * v).toFixed(1)).join("/") + " cm");
    for (const key of ["speed", "force", "height", "yaw"]) if (args[key] != null) bits.push(key + " " + (+args[key]).toFixed(2));
    const li = el("li", c.skill + (bits.length ? " " + bits.join(", ") : ""));
    if (s.running_step === i) li.className = "running";
    else if (i < s.cursor) li.className = "done";
    else if (i === s.cursor && s.busy) li.className = "next";
    li.dataset.step = i; plan.appendChild(li);
  });
  $("next").textContent = s.next ? "next: " + s.next : "";
  const kn = $("knowledge"); clear(kn);
  const notes = s.knowledge_notes || [];
  if (!notes.length && !(s.knowledge || []).length) kn.appendChild(el("li", s.memory === "on" ? "nothing applied to this task" : "memory is off", "muted"));
  for (const n of notes) kn.appendChild(el("li", n));
  for (const e of s.knowledge || []) kn.appendChild(el("li", `#${e.id} ${e.text} (confidence ${(+e.confidence).toFixed(2)})`, "muted"));
  const tb = $("objects").tBodies[0]; clear(tb);
  for (const o of s.objects || []) {
    const tr = el("tr"); tr.appendChild(el("td", o.name));
    for (const v of o.position) tr.appendChild(el("td", (100 * v).toFixed(1)));
    tr.dataset.name = o.name; tb.appendChild(tr);
  }
  if (rc.client && s.controller !== undefined) {
    const free = s.controller === null;
    setRole(s.controller === rc.client ? "control" : "watch",
            free ? "nobody controls the robot: press 'take control' to teach" : "watching: another page controls this robot; you see everything it does", free);
  }
}

// --- inputs -----------------------------------------------------------------------------------------
$("say").addEventListener("submit", (e) => {
  e.preventDefault();
  const t = $("text").value.trim(); if (!t) return;
  if (send({ op: "text", text: t })) $("text").value = "";
});
$("stop").addEventListener("click", () => send({ op: "stop" }));
$("newscene").addEventListener("click", () => send({ op: "new" }));
$("take").addEventListener("click", () => send({ op: "take" }));
document.addEventListener("keydown", (e) => { if (e.key === "Escape") send({ op: "stop" }); });

// push-to-talk: record with WebAudio at 16 kHz, send 16-bit PCM WAV (the server decodes nothing else)
let rec = null;
async function pttStart() {
  if (rec || $("ptt").disabled) return;
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true } });
    const ac = new AudioContext({ sampleRate: 16000 });
    const src = ac.createMediaStreamSource(stream);
    const proc = ac.createScriptProcessor(4096, 1, 1);
    const chunks = [];
    proc.onaudioprocess = (e) => chunks.push(new Float32Array(e.inputBuffer.getChannelData(0)));
    src.connect(proc); proc.connect(ac.destination);
    rec = { stream, ac, src, proc, chunks };
    $("ptt").classList.add("recording"); $("heard").textContent = "listening…";
  } catch (err) { banner("microphone: " + err.message, "error"); }
}
function pttStop() {
  if (!rec) return;
  const { stream, ac, src, proc, chunks } = rec; rec = null;
  $("ptt").classList.remove("recording");
  src.disconnect(); proc.disconnect(); stream.getTracks().forEach((t) => t.stop());
  const rate = ac.sampleRate; ac.close();
  let n = 0; for (const c of chunks) n += c.length;
  const x = new Float32Array(n); let o = 0; for (const c of chunks) { x.set(c, o); o += c.length; }
  const pcm = resample(x, rate, 16000);
  if (pcm.length < 1600) { $("heard").textContent = "too short: hold the button while you speak"; return; }
  ws.send(wav16(pcm)); $("heard").textContent = "recognising…";
}
function resample(x, from, to) {
  if (from === to) return x;
  const n = Math.floor(x.length * to / from), y = new Float32Array(n);
  for (let i = 0; i < n; i++) { const p = i * from / to, j = Math.floor(p), f = p - j; y[i] = (x[j] || 0) * (1 - f) + (x[j + 1] || 0) * f; }
  return y;
}
function wav16(x) {
  const b = new ArrayBuffer(44 + 2 * x.length), v = new DataView(b);
  const str = (o, s) => { for (let i = 0; i < s.length; i++) v.setUint8(o + i, s.charCodeAt(i)); };
  str(0, "RIFF"); v.setUint32(4, 36 + 2 * x.length, true); str(8, "WAVE"); str(12, "fmt ");
  v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 1, true); v.setUint32(24, 16000, true);
  v.setUint32(28, 32000, true); v.setUint16(32, 2, true); v.setUint16(34, 16, true); str(36, "data"); v.setUint32(40, 2 * x.length, true);
  for (let i = 0; i < x.length; i++) v.setInt16(44 + 2 * i, Math.max(-1, Math.min(1, x[i])) * 32767, true);
  return b;
}
const ptt = $("ptt");
ptt.addEventListener("pointerdown", pttStart);
for (const ev of ["pointerup", "pointerleave"]) ptt.addEventListener(ev, pttStop);

// --- tabs and read-only browsing -----------------------------------------------------------------------
for (const b of document.querySelectorAll(".tab")) b.addEventListener("click", () => showTab(b.dataset.tab));
function showTab(name) {
  for (const b of document.querySelectorAll(".tab")) b.classList.toggle("active", b.dataset.tab === name);
  for (const p of document.querySelectorAll(".tabpane")) p.classList.toggle("hidden", p.id !== "tab-" + name);
  ({ episodes: loadEpisodes, knowledge: loadKnowledge, policies: loadPolicies, bench: loadBench }[name] || (() => {}))()
    .catch((e) => banner("error: " + e.message, "error"));
}
function row(tbody, cells, onclick) { const tr = el("tr"); for (const c of cells) tr.appendChild(el("td", c == null ? "" : String(c))); tr.onclick = onclick; tbody.appendChild(tr); }
function kv(parent, title, obj) { parent.appendChild(el("h2", title)); parent.appendChild(el("pre", JSON.stringify(obj, null, 1))); }

async function loadEpisodes() {
  const eps = await api("/api/episodes"); const tb = $("eplist").tBodies[0]; clear(tb);
  for (const e of eps) row(tb, [e.id, e.task, e.status, e.steps, e.corrections], () => showEpisode(e.id));
}
async function showEpisode(id) {
  const r = await api("/api/episodes/" + encodeURIComponent(id)); const d = $("epdetail"); clear(d);
  d.appendChild(el("h2", r.task)); d.appendChild(el("p", `${r.id} · ${r.status} · policy ${r.policy}`, "muted"));
  d.appendChild(el("h2", "Corrections"));
  const ol = el("ol", null, "changes"); for (const c of r.corrections) { const li = el("li"); li.appendChild(el("span", c.utterance || c.text || "", "utt")); for (const ch of c.changes || []) li.appendChild(el("span", ch, "chg")); ol.appendChild(li); }
  d.appendChild(ol);
  d.appendChild(el("h2", "Frames"));
  const fr = el("div", null, "frames");
  for (const f of r.frame_urls) { const fig = el("figure"); const img = el("img"); img.src = withToken(f.url); img.alt = f.label; fig.appendChild(img); fig.appendChild(el("figcaption", f.label)); fr.appendChild(fig); }
  d.appendChild(fr);
  kv(d, "Final plan", r.final_plan); kv(d, "Steps", r.steps.map((s) => ({ index: s.index, skill: s.call.skill, success: s.outcome.success, message: s.outcome.message })));
}
async function loadKnowledge() {
  const k = await api("/api/knowledge"); $("kbpath").textContent = k.message || k.path || "";
  const tb = $("kblist").tBodies[0]; clear(tb);
  for (const e of k.entries) row(tb, [e.id, e.text, (+e.confidence).toFixed(2), e.status], () => showEntry(e.id));
}
async function showEntry(id) {
  const e = await api("/api/knowledge/" + id); const d = $("kbdetail"); clear(d);
  d.appendChild(el("h2", e.text));
  d.appendChild(el("p", `confidence ${(+e.confidence).toFixed(2)} · ${e.status} · scope ${e.scope} (${e.basis})`, "muted"));
  d.appendChild(el("h2", "Taught by episodes"));
  const ul = el("ul"); for (const s of e.sources || []) { const li = el("li"); const a = el("a", s); a.href = "#"; a.onclick = (ev) => { ev.preventDefault(); showTab("episodes"); showEpisode(s); }; li.appendChild(a); ul.appendChild(li); }
  d.appendChild(ul);
  kv(d, "Effect", e.effect); kv(d, "Conditions", e.conditions); kv(d, "Evidence", e.evidence);
}
async function loadPolicies() {
  const p = await api("/api/policies"); const d = $("policies"); clear(d);
  d.appendChild(el("h2", "Active policy: " + p.active)); if (p.message) d.appendChild(el("p", p.message, "muted"));
  const t = el("table"); const tb = el("tbody"); t.appendChild(tb);
  for (const [name, info] of Object.entries(p.policies || {})) row(tb, [name, info.path, info.gate ? JSON.stringify(info.gate).slice(0, 120) : ""]);
  d.appendChild(t); kv(d, "History", p.history || []);
}
async function loadBench() {
  const list = await api("/api/bench"); const d = $("bench"); clear(d);
  if (!list.length) { d.appendChild(el("p", "no benchmark results given: start robocorrect serve --bench runs/teach/teach_results.json", "muted")); return; }
  for (const b of list) {
    d.appendChild(el("h2", b.file));
    if (b.error) { d.appendChild(el("p", b.error, "muted")); continue; }
    const img = el("img"); img.src = withToken("/api/bench/" + b.index + ".svg"); img.alt = "teaching benchmark"; img.dataset.testid = "bench-plot"; d.appendChild(img);
  }
}

connect();
