"use strict";
// The web console's page: the live view from the WebSocket, the actions as kelly ctl verbs,
// models, training and takes from the JSON API. Every text from the server is set as text
// (textContent), never as markup, except a model card, which the server renders from
// Markdown with raw HTML turned off.
(function () {
  const TOKEN = document.querySelector('meta[name="kelly-token"]').content;
  const HISTORY_S = 300;
  const AXES = ["valence", "arousal", "dominance"];
  const COLORS = { fused: "#f5f5f5", audio: "#4aa3ff", text: "#f0a030", body: "#c678dd" };
  const $ = (id) => document.getElementById(id);
  const state = { history: [], events: [], actors: [], info: null, lastStatus: null };

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c);
    return node;
  }
  const fmt = (v, digits = 2) => (v === null || v === undefined ? "-" : Number(v).toFixed(digits));
  const clock = (s) => { s = Math.max(0, Math.round(s || 0)); return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`; };

  // -- API ----------------------------------------------------------------------------
  async function api(path, body) {
    const init = body === undefined ? { headers: { "X-Kelly-Token": TOKEN } } : {
      method: "POST",
      headers: { "X-Kelly-Token": TOKEN, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    };
    const response = await fetch(path, init);
    let data;
    try { data = await response.json(); } catch (e) { data = { ok: false, error: `HTTP ${response.status}` }; }
    if (!response.ok && data.ok === undefined) data.ok = false;
    return data;
  }

  function reply(text, ok) {
    const list = $("replies");
    list.prepend(el("li", { class: ok ? "ok" : "err", text: `${new Date().toLocaleTimeString()}  ${text}` }));
    while (list.children.length > 50) list.lastChild.remove();
  }

  async function ctl(verb, argv) {
    const data = await api("/api/ctl", { verb, argv });
    const text = data.ok ? `${verb}: ${data.text}` : `${verb}: ${data.text || data.error}`;
    reply(text, data.ok);
    return data;
  }

  // -- tabs ---------------------------------------------------------------------------
  function showTab() {
    const name = (location.hash || "#live").slice(1);
    for (const section of document.querySelectorAll(".tab")) section.classList.toggle("active", section.id === name);
    for (const a of document.querySelectorAll("#tabs a")) a.classList.toggle("active", a.dataset.tab === name);
    if (name === "models") loadModels();
    if (name === "takes") loadTakes();
    if (name === "training") loadTraining();
    drawPlots();
  }

  // -- live view ----------------------------------------------------------------------
  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws`);
    ws.onopen = () => setConn(true, "live");
    ws.onclose = () => { setConn(false, "disconnected, retrying…"); setTimeout(connect, 2000); };
    ws.onmessage = (m) => handle(JSON.parse(m.data));
  }

  function setConn(on, text) {
    const badge = $("conn");
    badge.className = "badge " + (on ? "on" : "off");
    badge.textContent = text;
  }

  function handle(msg) {
    if (msg.type === "hello") {
      state.history = msg.history || [];
      state.events = msg.events || [];
      renderEvents();
    } else if (msg.type === "status") {
      state.history.push({ time: msg.time, ...msg.emotion });
      const cutoff = msg.time - HISTORY_S;
      while (state.history.length && state.history[0].time < cutoff) state.history.shift();
      renderStatus(msg);
    } else if (msg.type === "offline") {
      setConn(false, "no performance");
      $("run-line").textContent = msg.why;
    } else if (msg.type === "event") {
      state.events.push(msg.event);
      if (state.events.length > 200) state.events.shift();
      renderEvents();
    } else if (msg.type === "training") {
      renderTraining(msg.job);
    }
  }

  function renderStatus(s) {
    state.lastStatus = s;
    setConn(true, "live");
    const run = s.run;
    $("run-line").textContent = `performance ${run.tag} (pid ${run.pid}), up ${clock(run.uptime_s)}, ${run.config}` +
      (run.supervisor_restarts ? `, supervisor restarted ${run.supervisor_restarts}×` : "");
    const rows = s.actors.map((a) => el("tr", { class: a.standing, "data-actor": a.name, "data-state": a.state },
      el("td", { text: a.name }), el("td", { class: "state", text: a.state }), el("td", { class: "num", text: a.pid }),
      el("td", { class: "num restarts", text: a.restarts }), el("td", { class: "num", text: a.cpu }),
      el("td", { class: "num", text: a.rss }), el("td", { class: "num", text: a.heartbeat }),
      el("td", { class: "num", text: a.misses }), el("td", { text: a.note })));
    $("actors").tBodies[0].replaceChildren(...rows);
    const names = s.actors.map((a) => a.name);
    if (names.join() !== state.actors.join()) {
      state.actors = names;
      $("restart-actor").replaceChildren(...names.map((n) => el("option", { value: n, text: n })));
    }
    $("rings").tBodies[0].replaceChildren(...s.rings.map((r) => {
      const bar = el("span");
      bar.style.width = `${Math.min(100, (100 * r.used) / Math.max(1, r.capacity))}%`;
      return el("tr", {}, el("td", { text: r.name }), el("td", {}, el("span", { class: "fill" }, bar)),
        el("td", { class: "num", text: `${r.used}/${r.capacity}` }), el("td", { class: "num", text: r.peak_used }),
        el("td", { class: "num", text: r.overruns }), el("td", { class: "num", text: r.underruns }),
        el("td", { text: r.writer || "" }));
    }));
    renderAudio(s.audio, s.budget);
    renderEmotion(s.emotion);
    const m = s.music;
    $("music-now").textContent = `${m.key || "-"} · ${fmt(m.tempo, 0)} bpm · bar ${m.bar ?? "-"}`;
    $("music-lines").textContent = m.lines.join("\n");
    $("sensor-lines").textContent = s.sensors.join("\n");
    drawPlots();
  }

  function renderAudio(audio, budget) {
    const load = audio.period_ms ? (100 * (audio.p99_ms || 0)) / audio.period_ms : 0;
    const bar = $("load-bar");
    bar.style.width = `${Math.min(100, load)}%`;
    bar.classList.toggle("hot", load > 70);
    $("load-text").textContent = audio.period_ms ?
      `callback p99 ${fmt(audio.p99_ms)} ms of ${fmt(audio.period_ms)} ms (${load.toFixed(0)} %) · xruns ${audio.xruns} · underruns ${audio.underruns}` +
      (audio.blame ? ` — blame ${audio.blame}` : "") : "no audio telemetry yet";
    const palette = ["#4aa3ff", "#4caf50", "#f0a030", "#c678dd"];
    const total = budget.total_ms || 1;
    $("budget").replaceChildren(...budget.parts.map(([label, ms], i) => {
      const part = el("span", { title: `${label} ${fmt(ms, 1)} ms` });
      part.style.width = `${(100 * ms) / total}%`;
      part.style.background = palette[i % palette.length];
      return part;
    }));
    $("budget-text").textContent = `latency budget ${fmt(budget.total_ms, 1)} ms = ` +
      budget.parts.map(([label, ms]) => `${label} ${fmt(ms, 1)}`).join(" + ");
    $("audio-lines").textContent = audio.lines.join("\n");
  }

  function renderEmotion(e) {
    const f = e.fused;
    const locks = Object.entries(e.locks || {}).map(([k, v]) => `${k}=${fmt(v)}`).join(", ");
    $("emotion-now").textContent = f ?
      `V ${fmt(f.valence)}  A ${fmt(f.arousal)}  D ${fmt(f.dominance)} · ${e.nearest} · from ${e.source}` +
      (locks ? ` · locked ${locks}` : "") : "no composer reports an emotion yet";
    for (const box of document.querySelectorAll("input.lock")) {
      if (document.activeElement !== box) box.checked = box.dataset.axis in (e.locks || {});
    }
  }

  function drawPlots() {
    if (!$("live").classList.contains("active") || !window.KellyPlot) return;
    const now = state.history.length ? state.history[state.history.length - 1].time : 0;
    // The window grows with the history, from one minute to five, so a page opened a few
    // seconds ago shows lines, not a sliver at the right edge.
    const span = state.history.length ? Math.min(HISTORY_S, Math.max(60, now - state.history[0].time)) : 60;
    for (const axis of AXES) {
      const series = ["fused", "audio", "text", "body"].map((source) => ({
        color: COLORS[source], width: source === "fused" ? 2.5 : 1.5,
        points: state.history.map((h) => [h.time - now, h[source] ? (h[source][axis] ?? null) : null]),
      }));
      const ymin = axis === "valence" ? -1 : 0;
      window.KellyPlot.draw($(`plot-${axis}`), series, {
        xmin: -span, xmax: 0, ymin, ymax: 1, grid: axis === "valence" ? [-1, 0, 1] : [0, 0.5, 1],
        label: span >= 120 ? `last ${Math.round(span / 60)} min` : `last ${Math.round(span)} s`,
      });
      // What the plot ends on, for a reader that cannot see the canvas (and the tests).
      const last = state.history[state.history.length - 1];
      $(`plot-${axis}`).dataset.fused = last && last.fused ? last.fused[axis] : "";
      $(`plot-${axis}`).dataset.points = state.history.length;
    }
  }

  function renderEvents() {
    const needle = $("event-filter").value.trim().toLowerCase();
    const lines = [];
    for (const ev of state.events.slice().reverse()) {
      const detail = Object.entries(ev.detail || {}).map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`).join(" ");
      const text = `${new Date(ev.time * 1000).toLocaleTimeString()}  ${ev.event}  ${detail}`;
      if (needle && !text.toLowerCase().includes(needle)) continue;
      lines.push(el("li", { text }));
      if (lines.length >= 200) break;
    }
    $("events").replaceChildren(...lines);
  }

  // -- control ------------------------------------------------------------------------
  function setupControl() {
    $("feel-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const text = $("feel-text").value.trim();
      if (text) ctl("feel", [text]);
    });
    for (const id of ["v", "a", "d"]) {
      $(id).addEventListener("input", () => { $(id).nextElementSibling.value = Number($(id).value).toFixed(2); });
    }
    $("vad-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      ctl("set-emotion", [$("v").value, $("a").value, $("d").value]);
    });
    for (const box of document.querySelectorAll("input.lock")) {
      box.addEventListener("change", () => ctl(box.checked ? "lock" : "unlock", [box.dataset.axis]));
    }
    $("panic").addEventListener("click", () => ctl("panic", []));
    $("restart").addEventListener("click", () => { const a = $("restart-actor").value; if (a) ctl("restart", [a]); });
    $("stop").addEventListener("click", () => { $("stop-confirm").hidden = false; });
    $("stop-confirm").addEventListener("click", () => { $("stop-confirm").hidden = true; ctl("stop", []); });
    $("event-filter").addEventListener("input", renderEvents);
  }

  // -- models -------------------------------------------------------------------------
  async function loadModels() {
    const data = await api("/api/models");
    if (!data.ok) { $("model-msg").textContent = data.error; return; }
    $("model-table").tBodies[0].replaceChildren(...data.models.map((m) => el("tr", { "data-model": m.id },
      el("td", {}, el("input", { type: "checkbox", class: "pick", value: m.id })),
      el("td", { text: m.name, title: m.dir }), el("td", { text: m.kind || "?" }),
      el("td", { class: "num", text: `${(m.bytes / 1048576).toFixed(1)} MiB` }),
      el("td", { class: "mono", text: m.sha256.slice(0, 12), title: m.sha256 }),
      el("td", { class: m.matches ? "match" : "nomatch", text: m.matches ? "matches" : (m.card_problem || "does not match") }),
      el("td", {}, el("button", { text: "card", onclick: () => showCards([m.id]) }),
        m.loadable ? el("button", { text: "load", class: "warn", onclick: () => loadModel(m.root, m.name) }) : ""))));
  }

  async function loadModel(root, name) {
    $("model-msg").textContent = `checking and loading ${name}…`;
    const data = await api("/api/load", { root, name });
    const check = data.card_matches === undefined ? "" : (data.card_matches ? " (card matches the file)" : " (card does NOT match the file)");
    const text = data.ok ? `load-model ${name}: ${data.text}${check}` : `load-model ${name}: ${data.text || data.error}${check}`;
    $("model-msg").textContent = text;
    $("train-msg").textContent = text;
    reply(text, data.ok);
  }

  async function showCards(ids) {
    const cards = [];
    for (const id of ids) {
      const data = await api(`/api/models/${id.split("/").map(encodeURIComponent).join("/")}`);
      if (!data.ok) { cards.push(el("div", { class: "panel card", text: data.error })); continue; }
      const m = data.model;
      const body = el("div");
      body.innerHTML = m.card_html || "<p>(no Markdown card)</p>";  // Markdown rendered with HTML off
      cards.push(el("div", { class: "panel card", "data-card": m.id },
        el("h2", { text: m.name }),
        el("p", { class: "mono small", text: `sha256 ${m.sha256}` }),
        el("p", { class: m.matches ? "match" : "nomatch", text: m.matches ? "the card matches the file" : `the card does not match the file (card says ${m.card_sha256 || "nothing"})` }),
        body));
    }
    $("cards").replaceChildren(...cards);
  }

  function setupModels() {
    $("compare").addEventListener("click", () => {
      const picked = [...document.querySelectorAll("input.pick:checked")].map((b) => b.value);
      if (picked.length !== 2) { $("model-msg").textContent = "tick exactly two models to compare"; return; }
      showCards(picked);
    });
  }

  // -- training -----------------------------------------------------------------------
  async function loadTraining() {
    const data = await api("/api/train");
    if (data.ok) renderTraining(data.job);
  }

  function renderTraining(job) {
    if (!job || job.state === "idle") return;
    const p = job.progress || {};
    const frac = p.fraction || 0;
    $("train-state").textContent = `${job.kind}: ${job.state} · ${p.stage || "starting"} · ` +
      `${Math.round(100 * frac)} % (${p.done ?? 0}/${p.total ?? "?"}) · ETA ${clock(p.eta_s)} ${p.extra || ""}`;
    $("train-state").dataset.state = job.state;
    $("train-bar").style.width = `${100 * (job.state === "finished" ? 1 : frac)}%`;
    if ($("training").classList.contains("active") && window.KellyPlot) {
      window.KellyPlot.draw($("plot-loss"), [{ color: "#4aa3ff", points: job.loss || [] }], { grid: [], label: "loss by step" });
    }
    $("train-tail").textContent = (job.tail || []).join("\n");
    $("train-models").replaceChildren(...(job.models || []).map((name) => {
      const loadable = job.kind === "emotion" || job.kind === "ddsp";
      return el("p", {}, el("span", { class: "mono", text: `wrote ${name} ` }),
        loadable ? el("button", { text: "load into the performance", onclick: () => loadTrained(name) })
          : el("span", { class: "muted", text: "(a transformer is loaded when a performance starts: inference.transformer_model)" }));
    }));
  }

  async function loadTrained(name) {
    const root = state.info.model_dirs.length - 1;  // the training directory comes last
    await loadModel(root, name);
  }

  function setupTraining() {
    $("train-kind").replaceChildren(...state.info.train_kinds.map((k) => el("option", { value: k, text: k })));
    $("train-instrument").replaceChildren(...state.info.instruments.map((k) => el("option", { value: k, text: k })));
    const showInstrument = () => { $("instrument-label").hidden = $("train-kind").value !== "ddsp"; };
    $("train-kind").addEventListener("change", showInstrument);
    showInstrument();
    $("train-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const options = {};
      if ($("train-steps").value !== "") options.steps = Number($("train-steps").value);
      if ($("train-seed").value !== "") options.seed = Number($("train-seed").value);
      if ($("train-kind").value === "ddsp") options.instrument = $("train-instrument").value;
      const data = await api("/api/train", { kind: $("train-kind").value, quick: $("train-quick").checked, options });
      $("train-msg").textContent = data.ok ? `started: ${data.job.command}` : data.error;
      if (data.ok) renderTraining(data.job);
    });
    $("train-cancel").addEventListener("click", async () => {
      const data = await api("/api/train/cancel", {});
      $("train-msg").textContent = data.ok ? "cancelling…" : data.error;
    });
  }

  // -- takes --------------------------------------------------------------------------
  async function loadTakes() {
    const data = await api("/api/takes");
    if (!data.ok) { $("takes-msg").textContent = data.error; return; }
    const available = state.info && state.info.report_available;
    $("takes-msg").textContent = (data.takes.length ? "" : "no recordings in the takes directories (kelly web --takes DIR). ") +
      (available ? "" : "This installation has no kelly report program, so reports cannot be built here.");
    const fileUrl = (root, name) => `/files/takes/${root}/${name.split("/").map(encodeURIComponent).join("/")}`;
    $("take-list").replaceChildren(...data.takes.map((t) => {
      const summary = Object.entries(t.summary).map(([k, v]) => `${k} ${v}`).join(" · ");
      const report = t.report ? el("a", { href: fileUrl(t.root, t.report), target: "_blank", rel: "noopener", text: "session report" })
        : available ? el("button", { text: "build report", onclick: (ev) => buildReport(t, ev.target) }) : "";
      return el("div", { class: "take", "data-take": t.name },
        el("h2", { text: t.name }), el("p", { class: "muted small", text: summary }), report,
        ...t.wavs.map((w) => el("div", {}, el("span", { class: "mono small", text: w.name }),
          el("audio", { controls: "", preload: "metadata", src: fileUrl(t.root, w.name) }))),
        t.midi.length ? el("p", { class: "small" }, "MIDI: ", ...t.midi.map((m) =>
          el("a", { href: fileUrl(t.root, m), download: m.split("/").pop(), class: "mono", text: m.split("/").pop() + " " }))) : "");
    }));
  }

  async function buildReport(take, button) {
    button.disabled = true;
    button.textContent = "building…";
    const data = await api("/api/takes/report", { root: take.root, path: take.path });
    $("takes-msg").textContent = data.ok ? "report built" : `kelly report failed: ${data.output || data.error}`;
    loadTakes();
  }

  // -- start --------------------------------------------------------------------------
  async function start() {
    const info = await api("/api/info");
    state.info = info.ok ? info : { model_dirs: [], train_kinds: [], instruments: [], report_available: false };
    setupControl();
    setupModels();
    setupTraining();
    window.addEventListener("hashchange", showTab);
    window.addEventListener("resize", drawPlots);
    showTab();
    connect();
  }
  start();
})();
