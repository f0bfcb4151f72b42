// vidseek web page: library, search, player with a result timeline, transcript, ask.
// Plain JavaScript, no build step. Every time is float seconds on the media timeline.
"use strict";

const $ = (sel) => document.querySelector(sel);
const player = $("#player");

const state = {
  videos: [],          // library summaries
  current: null,       // the summary of the video in the player
  moments: [],         // last search's moments (all videos)
  active: -1,          // index of the result last opened
  query: "",
  transcript: [],      // speech observations of the current video
  sounds: [],          // sound events of the current video (applause, a dog barking...)
  evidence: [],        // the last answer's moments (current video)
};

// ---------------------------------------------------------------- helpers

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function clock(seconds, decimals = 1) {
  if (!Number.isFinite(seconds)) return "--:--";
  const sign = seconds < 0 ? "-" : "";
  seconds = Math.abs(seconds);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = (seconds % 60).toFixed(decimals).padStart(decimals ? 3 + decimals : 2, "0");
  return h ? `${sign}${h}:${String(m).padStart(2, "0")}:${s}` : `${sign}${m}:${s}`;
}

async function api(path, options = {}) {
  const response = await fetch(path, options);
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    const detail = body && body.detail ? body.detail : `${response.status} ${response.statusText}`;
    throw new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
  }
  return body;
}

// Server-sent events from a fetch response (works for POST, unlike EventSource).
async function* readEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      yield { event, data: data.join("\n") };
    }
  }
}

function escapeRegExp(text) { return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }

const STOP = new Set(("the and for are was were with this that from what who whom which when " +
  "where why how does did has have had not but its into onto over than then there these those " +
  "they them you your our his her she him").split(" "));

// Text with the query's words marked.
function highlighted(text, query) {
  const words = (query || "").toLowerCase().split(/\W+/)
    .filter((w) => w.length > 2 && !STOP.has(w));
  if (!words.length) return [text];
  const pattern = new RegExp(`\\b(${words.map(escapeRegExp).join("|")})`, "gi");
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    parts.push(text.slice(last, match.index), el("mark", {}, match[0]));
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return parts;
}

// ---------------------------------------------------------------- library

async function loadLibrary() {
  state.videos = await api("/api/videos");
  const list = $("#videos");
  list.replaceChildren(...state.videos.map((v) => el("li", {
    class: "video-item" + (state.current && state.current.id === v.id ? " current" : ""),
    dataset: { id: v.id }, title: v.path, onclick: () => openAt(v.id, 0),
  },
  el("img", { src: v.thumbnail_url, alt: "", loading: "lazy" }),
  el("div", { class: "info" }, el("div", { class: "title", title: v.name }, v.name),
    el("div", { class: "meta" }, `${clock(v.duration, 0)} · ${v.width}×${v.height}`)))));
  $("#library-count").textContent = state.videos.length ? `(${state.videos.length})` : "";
  if (!state.videos.length) {
    list.append(el("li", { class: "muted" }, "Empty. Add a video to start."));
  }
}

// ---------------------------------------------------------------- player

function waitFor(target, event) {
  return new Promise((resolve) => target.addEventListener(event, resolve, { once: true }));
}

async function loadVideo(id) {
  let video = state.videos.find((v) => v.id === id);
  if (!video) video = await api(`/api/videos/${id}`);
  state.current = video;
  state.evidence = [];
  $(".player-wrap").classList.add("has-video");
  $("#now-name").textContent = video.name;
  $("#now-name").title = video.path;
  for (const item of document.querySelectorAll(".video-item")) {
    item.classList.toggle("current", item.dataset.id === id);
  }
  const ready = waitFor(player, "loadedmetadata");
  player.src = video.media_url;
  loadTranscript(id);
  loadSounds(id);
  drawTimeline();
  await ready;
}

async function openAt(id, time, autoplay = true) {
  if (!state.current || state.current.id !== id || player.readyState < 1) await loadVideo(id);
  seek(time);
  if (autoplay) player.play().catch(() => {});
}

function seek(time) {
  const duration = player.duration || (state.current && state.current.duration) || 0;
  player.currentTime = Math.max(0, Math.min(time, duration));
  updateHash();
}

function updateHash() {
  if (!state.current) return;
  history.replaceState(null, "", `#v=${state.current.id}&t=${player.currentTime.toFixed(2)}`);
}

function stepFrame(direction) {
  const fps = (state.current && state.current.fps) || 25;
  player.pause();
  seek(player.currentTime + direction / fps);
}

// ---------------------------------------------------------------- timeline

function durationNow() {
  return player.duration || (state.current && state.current.duration) || 0;
}

function drawMarks(lane, spans, onclick) {
  const duration = durationNow();
  lane.replaceChildren();
  if (!duration) return;
  spans.forEach((span, i) => {
    const left = (100 * span.start) / duration;
    const width = Math.max((100 * (span.end - span.start)) / duration, 0.4);
    lane.append(el("div", {
      class: "mark" + (span.active ? " active" : ""),
      style: `left:${left}%;width:${width}%;opacity:${span.opacity ?? 1}`,
      title: span.title || `${clock(span.start)} – ${clock(span.end)}`,
      dataset: { index: i },
      onclick: (event) => { event.stopPropagation(); onclick(span, i); },
    }));
  });
}

function drawTimeline() {
  if (!state.current) return;
  const id = state.current.id;
  const results = state.moments
    .map((m, i) => ({ ...m, index: i }))
    .filter((m) => m.video_id === id)
    .map((m) => ({
      start: m.start, end: m.end, index: m.index, active: m.index === state.active,
      opacity: 0.45 + 0.55 * m.score,
      title: `#${m.index + 1} ${clock(m.start)} – ${clock(m.end)} · ${m.score.toFixed(2)}`,
    }));
  drawMarks($("#lane-results"), results, (span) => openResult(span.index));
  drawMarks($("#lane-evidence"), state.evidence, (span) => openAt(id, span.start));
  drawMarks($("#lane-speech"), state.transcript.map((o) => ({
    start: o.start, end: o.end, title: o.text })), (span) => openAt(id, span.start, false));
  drawMarks($("#lane-sound"), state.sounds.map((o) => ({
    start: o.start, end: o.end, title: `${o.text} · ${clock(o.start)} – ${clock(o.end)}` })),
  (span) => openAt(id, span.start, false));
  movePlayhead();
}

function movePlayhead() {
  const duration = durationNow();
  const fraction = duration ? player.currentTime / duration : 0;
  $("#playhead").style.left = `${100 * fraction}%`;
  $("#now-time").textContent = `${clock(player.currentTime, 2)} / ${clock(duration, 0)}`;
}

function timelineTime(event) {
  const box = $("#timeline").getBoundingClientRect();
  const fraction = Math.max(0, Math.min(1, (event.clientX - box.left) / box.width));
  return fraction * durationNow();
}

// ---------------------------------------------------------------- transcript

async function loadSounds(id) {
  state.sounds = [];
  try {
    const found = await api(`/api/videos/${id}/observations?kind=sound`);
    if (!state.current || state.current.id !== id) return;
    state.sounds = found;
  } catch (error) {
    return;  // no lane is no loss: the transcript says what went wrong with the video
  }
  drawTimeline();
}

async function loadTranscript(id) {
  const list = $("#transcript");
  list.replaceChildren(el("li", { class: "empty" }, "Loading transcript…"));
  try {
    const found = await api(`/api/videos/${id}/observations?kind=speech`);
    if (!state.current || state.current.id !== id) return;
    state.transcript = found;
  } catch (error) {
    state.transcript = [];
    list.replaceChildren(el("li", { class: "empty error" }, error.message));
    return;
  }
  renderTranscript();
  drawTimeline();
}

function renderTranscript() {
  const list = $("#transcript");
  if (!state.transcript.length) {
    list.replaceChildren(el("li", { class: "empty" }, "No speech in this video."));
    return;
  }
  list.replaceChildren(...state.transcript.map((o, i) => el("li", {
    dataset: { index: i, start: o.start }, onclick: () => openAt(state.current.id, o.start, false),
  }, el("span", { class: "timecode" }, clock(o.start, 0)),
  el("span", {}, ...highlighted(o.text, state.query)))));
  followTranscript(true);
}

let currentLine = -1;
function followTranscript(force = false) {
  const t = player.currentTime;
  let index = -1;
  state.transcript.forEach((o, i) => { if (o.start <= t + 0.05) index = i; });
  if (index >= 0 && t > state.transcript[index].end + 1.5) index = -1;  // between sentences
  if (index === currentLine && !force) return;
  currentLine = index;
  const items = $("#transcript").children;
  for (const item of items) item.classList.remove("current");
  if (index >= 0 && items[index]) {
    items[index].classList.add("current");
    if ($("#follow").checked) items[index].scrollIntoView({ block: "nearest", behavior: "smooth" });
  }
}

// ---------------------------------------------------------------- search

async function search(threshold = null) {
  const q = $("#search-input").value.trim();
  if (!q) return;
  state.query = q;
  const params = new URLSearchParams({ q, k: "20" });
  const kind = $("#search-kind").value;
  if (kind) params.append("kind", kind);
  if ($("#search-here").checked && state.current) params.append("video", state.current.id);
  if (threshold !== null) params.set("threshold", String(threshold));
  const head = $("#results-head");
  head.textContent = "Searching…";
  let found;
  try {
    found = await api(`/api/search?${params}`);
  } catch (error) {
    head.replaceChildren(el("span", { class: "error" }, error.message));
    return;
  }
  state.moments = found.moments;
  state.active = -1;
  renderResults(found, threshold);
  drawTimeline();
  if (state.transcript.length) renderTranscript();
}

function renderResults(found, threshold) {
  const head = $("#results-head");
  const n = found.moments.length;
  if (!n) {
    head.replaceChildren(`No moment matches “${found.query}” well enough. `,
      threshold === null ? el("a", { onclick: () => search(0) }, "Show the closest candidates") : "");
  } else {
    head.textContent = `${n} moment${n === 1 ? "" : "s"} for “${found.query}” · ` +
      `${(found.seconds * 1000).toFixed(0)} ms`;
  }
  $("#results").replaceChildren(...found.moments.map((m, i) => {
    const best = m.evidence[0] || { kind: "?", channel: "?", text: "" };
    return el("li", {
      class: "result", dataset: { index: i, start: m.start, video: m.video_id },
      onclick: () => openResult(i),
    },
    el("img", { src: m.thumbnail_url, alt: `frame at ${clock(m.start)}`, loading: "lazy" }),
    el("div", {},
      el("div", { class: "range timecode" }, `${clock(m.start)} – ${clock(m.end)}`),
      el("div", { class: "file", title: m.path }, m.name),
      el("div", { class: "why" },
        el("span", { class: "badge" }, best.kind), el("span", { class: "badge" }, best.channel),
        best.text ? el("q", {}, ...highlighted(best.text, found.query)) : "")),
    el("div", { class: "score" },
      el("div", { class: "value" }, m.score.toFixed(2)),
      el("div", { class: "bar" }, el("span", { style: `width:${Math.round(100 * m.score)}%` })),
      el("div", { class: "muted" }, "score")));
  }));
}

async function openResult(index) {
  const moment = state.moments[index];
  if (!moment) return;
  state.active = index;
  for (const card of document.querySelectorAll(".result")) {
    card.classList.toggle("active", Number(card.dataset.index) === index);
  }
  await openAt(moment.video_id, moment.start);
  drawTimeline();
}

// ---------------------------------------------------------------- ask

async function ask(event) {
  event.preventDefault();
  const question = $("#ask-question").value.trim();
  const answerBox = $("#answer");
  if (!state.current) {
    answerBox.replaceChildren(el("p", { class: "error" }, "Open a video first: questions are about the video in the player."));
    return;
  }
  if (!question) return;
  const options = $("#ask-options").value.split("|").map((s) => s.trim()).filter(Boolean);
  const button = $("#ask-button");
  button.disabled = true;
  const trace = $("#trace");
  trace.replaceChildren();
  $("#trace-count").textContent = "";
  answerBox.replaceChildren(el("p", { class: "muted" }, "Thinking…"));
  try {
    const response = await fetch("/api/ask/stream", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ video: state.current.id, question, options: options.length ? options : null }),
    });
    if (!response.ok) throw new Error((await response.json()).detail);
    for await (const { event: kind, data } of readEvents(response)) {
      const payload = JSON.parse(data);
      if (kind === "step") {
        trace.append(renderStep(payload));
        $("#trace-count").textContent = `(${trace.children.length})`;
      } else if (kind === "answer") {
        renderAnswer(payload);
      } else if (kind === "error") {
        answerBox.replaceChildren(el("div", { class: "answer-card failed" }, payload.detail));
      }
    }
  } catch (error) {
    answerBox.replaceChildren(el("div", { class: "answer-card failed" }, error.message));
  } finally {
    button.disabled = false;
  }
}

function renderStep(step) {
  const what = step.tool ? `${step.tool}(${JSON.stringify(step.arguments)})` : "";
  return el("li", {}, el("span", { class: "kind" }, step.kind), " ", what,
    step.observation ? el("span", { class: "obs" }, step.observation.slice(0, 600)) : "");
}

function renderAnswer(answer) {
  const id = state.current ? state.current.id : answer.video_id;
  state.evidence = answer.evidence.filter((m) => m.video_id === id)
    .map((m) => ({ start: m.start, end: m.end, title: (m.evidence[0] || {}).text || "" }));
  drawTimeline();
  const chosen = answer.choice !== null && answer.options ? `${"ABCDEFGH"[answer.choice]}. ` : "";
  const card = el("div", { class: "answer-card" + (answer.found ? "" : " not-found") },
    el("div", { class: "answer-text" }, chosen + answer.text),
    el("div", { class: "answer-meta" },
      `confidence ${answer.confidence.toFixed(2)} · ${answer.model || answer.route} · ` +
      `${answer.cost.seconds.toFixed(1)} s · ${answer.cost.frames_decoded} frames decoded · ` +
      `${answer.cost.model_calls} model calls`),
    answer.evidence.length ? el("ol", { class: "evidence" }, answer.evidence.map((m) => el("li", {
      onclick: () => openAt(m.video_id, m.start),
      title: "Play this moment",
    },
    el("img", { src: `/api/videos/${m.video_id}/thumbnail?t=${(m.thumbnail ?? m.start).toFixed(3)}`, alt: "" }),
    el("div", {},
      el("a", { class: "timecode", href: `#v=${m.video_id}&t=${m.start.toFixed(2)}` },
        `${clock(m.start)} – ${clock(m.end)}`),
      el("div", { class: "muted" }, (m.evidence[0] || {}).text || ""))))) : "",
    answer.notes.length ? el("ul", { class: "notes" }, answer.notes.map((n) => el("li", {}, n))) : "");
  $("#answer").replaceChildren(card);
}

// ---------------------------------------------------------------- adding videos

async function addVideos(event) {
  event.preventDefault();
  const error = $("#add-error");
  error.textContent = "";
  const file = $("#add-file").files[0];
  const paths = $("#add-paths").value.split("\n").map((s) => s.trim()).filter(Boolean);
  try {
    let job;
    if (file) {
      const reply = await api(`/api/uploads?filename=${encodeURIComponent(file.name)}`,
        { method: "POST", body: file, headers: { "Content-Type": "application/octet-stream" } });
      job = reply.job;
    } else if (paths.length) {
      job = await api("/api/jobs", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ paths }) });
    } else {
      error.textContent = "Choose a file or give a path.";
      return;
    }
    $("#add-dialog").close();
    $("#add-file").value = "";
    $("#add-paths").value = "";
    watchJob(job);
  } catch (failure) {
    error.textContent = failure.message;
  }
}

function watchJob(job) {
  const box = el("div", { class: "job", dataset: { id: job.id } });
  $("#jobs").prepend(box);
  const draw = (j) => {
    const names = j.paths.map((p) => p.split("/").pop()).join(", ");
    const status = j.status === "running" ? `indexing ${Math.round(100 * j.progress)}%` : j.status;
    box.className = `job ${j.status}`;
    box.replaceChildren(el("div", {}, el("b", {}, names)), el("div", { class: "muted" }, status),
      el("div", { class: "bar" }, el("span", { style: `width:${Math.round(100 * j.progress)}%` })),
      j.error ? el("div", { class: "error" }, j.error) : "");
  };
  draw(job);
  const source = new EventSource(`/api/jobs/${job.id}/events`);
  source.addEventListener("job", (event) => {
    const j = JSON.parse(event.data);
    draw(j);
    if (j.status === "done" || j.status === "failed") {
      source.close();
      loadLibrary();
    }
  });
  source.onerror = () => source.close();
}

// ---------------------------------------------------------------- wiring

function wire() {
  $("#search-form").addEventListener("submit", (event) => { event.preventDefault(); search(); });
  $("#ask-form").addEventListener("submit", ask);
  $("#add-open").addEventListener("click", () => $("#add-dialog").showModal());
  $("#add-submit").addEventListener("click", addVideos);
  for (const tab of document.querySelectorAll(".tab")) {
    tab.addEventListener("click", () => {
      for (const t of document.querySelectorAll(".tab")) t.classList.toggle("active", t === tab);
      for (const p of document.querySelectorAll(".panel")) {
        p.classList.toggle("active", p.id === `tab-${tab.dataset.tab}`);
      }
    });
  }
  const timeline = $("#timeline");
  timeline.addEventListener("click", (event) => { if (state.current) seek(timelineTime(event)); });
  timeline.addEventListener("mousemove", (event) => {
    const tip = $("#hover-time");
    const box = timeline.getBoundingClientRect();
    tip.style.left = `${event.clientX - box.left}px`;
    tip.textContent = clock(timelineTime(event));
  });
  player.addEventListener("timeupdate", () => { movePlayhead(); followTranscript(); });
  player.addEventListener("seeked", () => { movePlayhead(); followTranscript(); updateHash(); });
  player.addEventListener("loadedmetadata", drawTimeline);
  const tick = () => { if (!player.paused) movePlayhead(); requestAnimationFrame(tick); };
  requestAnimationFrame(tick);

  document.addEventListener("keydown", (event) => {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    const keys = {
      "/": () => $("#search-input").focus(),
      " ": () => (player.paused ? player.play() : player.pause()),
      "j": () => openResult(Math.min(state.active + 1, state.moments.length - 1)),
      "k": () => openResult(Math.max(state.active - 1, 0)),
      "ArrowLeft": () => seek(player.currentTime - 5),
      "ArrowRight": () => seek(player.currentTime + 5),
      ",": () => stepFrame(-1),
      ".": () => stepFrame(1),
    };
    if (keys[event.key] && (state.current || event.key === "/")) {
      event.preventDefault();
      keys[event.key]();
    }
  });
}

async function start() {
  wire();
  await loadLibrary();
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("v")) {
    openAt(hash.get("v"), Number(hash.get("t") || 0), false).catch(() => {});
  }
  for (const job of await api("/api/jobs")) {
    if (job.status === "queued" || job.status === "running") watchJob(job);
  }
}

window.addEventListener("hashchange", () => {
  const hash = new URLSearchParams(location.hash.slice(1));
  const id = hash.get("v");
  const t = Number(hash.get("t") || 0);
  if (id && (!state.current || state.current.id !== id || Math.abs(player.currentTime - t) > 0.2)) {
    openAt(id, t);
  }
});

start();
