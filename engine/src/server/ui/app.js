// The web UI of `sluice serve` (engine/src/server/web_ui.h): polls the REST API once a second
// and draws the job list and the selected job. Plain JavaScript, no library, no network fetch
// but this server's API.
//
// The bearer token comes from the URL's fragment (#token=…) or the form shown on a 401, and is
// kept in this tab's sessionStorage. The selected job is #job=ID in the fragment (default: the
// newest job).
"use strict";

const POLL_MILLIS = 1000;
const SVG = "http://www.w3.org/2000/svg";
const state = { token: "", selected: null, planOf: null, planState: null };

function fragment() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  return { token: params.get("token"), job: params.get("job") };
}

function setFragment() {
  const params = new URLSearchParams();
  if (state.selected) params.set("job", state.selected);
  history.replaceState(null, "", "#" + params.toString());
}

class Unauthorized extends Error {}

async function api(path, options) {
  const headers = {};
  if (state.token) headers["Authorization"] = "Bearer " + state.token;
  const response = await fetch(path, Object.assign({ headers, cache: "no-store" }, options || {}));
  if (response.status === 401) throw new Unauthorized("missing or wrong bearer token");
  const type = response.headers.get("Content-Type") || "";
  const body = type.startsWith("application/json") ? await response.json() : await response.text();
  if (!response.ok) throw new Error(body && body.error ? body.error : "HTTP " + response.status);
  return body;
}

function element(tag, attributes, text) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function svgElement(tag, attributes, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function integer(value) {
  return Number(value).toLocaleString("en-US");
}

function rate(value) {
  const number = Number(value);
  if (number >= 1e6) return (number / 1e6).toFixed(2) + " M";
  if (number >= 1e3) return (number / 1e3).toFixed(1) + " k";
  return number.toFixed(0);
}

// An axis label: small values keep two decimals (a lag of 0.25 s), large ones are abbreviated.
function axis(value) {
  const number = Number(value);
  if (number >= 1000) return rate(number);
  return number >= 10 ? number.toFixed(0) : number.toFixed(2);
}

function seconds(value) {
  const number = Number(value);
  if (number >= 100) return number.toFixed(0) + " s";
  if (number >= 1) return number.toFixed(2) + " s";
  return (number * 1000).toFixed(1) + " ms";
}

function bytes(value) {
  const number = Number(value);
  if (number >= 1 << 30) return (number / (1 << 30)).toFixed(2) + " GiB";
  if (number >= 1 << 20) return (number / (1 << 20)).toFixed(2) + " MiB";
  if (number >= 1 << 10) return (number / (1 << 10)).toFixed(1) + " KiB";
  return number + " B";
}

function time(unixMillis) {
  return new Date(Number(unixMillis)).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

// A table cell carrying its raw value (data-value) for what reads the page, its text for people.
function cell(field, value, text, numeric) {
  const td = element("td", { "data-field": field, "data-value": String(value) }, text);
  if (numeric) td.className = "num";
  return td;
}

function renderJobs(jobs) {
  const body = document.querySelector("#jobs tbody");
  body.replaceChildren();
  document.getElementById("no-jobs").hidden = jobs.length > 0;
  for (const job of jobs) {
    const row = element("tr", { "data-job-id": job.id });
    if (job.id === state.selected) row.className = "selected";
    const badge = element("span", { class: "state " + job.state }, job.state);
    const stateCell = element("td", { "data-field": "state", "data-value": job.state });
    stateCell.append(badge);
    row.append(
      cell("id", job.id, job.id),
      cell("name", job.name, job.name),
      stateCell,
      cell("records_in", job.counters.records_in, integer(job.counters.records_in), true),
      cell("records_out", job.counters.records_out, integer(job.counters.records_out), true),
      cell("records_in_per_second", job.rates.records_in_per_second, rate(job.rates.records_in_per_second), true),
      cell("records_out_per_second", job.rates.records_out_per_second, rate(job.rates.records_out_per_second), true),
      cell("elapsed_seconds", job.counters.elapsed_seconds, seconds(job.counters.elapsed_seconds), true));
    row.addEventListener("click", () => select(job.id));
    body.append(row);
  }
}

function renderCounters(job) {
  const c = job.counters;
  const items = [
    ["records_in", "records in", c.records_in, integer(c.records_in)],
    ["records_out", "records out", c.records_out, integer(c.records_out)],
    ["bytes_in", "bytes in", c.bytes_in, bytes(c.bytes_in)],
    ["dead_lettered", "dead-lettered", c.dead_lettered, integer(c.dead_lettered)],
    ["late", "late", c.late, integer(c.late)],
    ["state_keys", "state keys", c.state_keys, integer(c.state_keys)],
    ["state_bytes", "state bytes", c.state_bytes, bytes(c.state_bytes)],
    ["elapsed_seconds", "elapsed", c.elapsed_seconds, seconds(c.elapsed_seconds)],
    ["records_in_per_second", "in/s", job.rates.records_in_per_second, rate(job.rates.records_in_per_second)],
    ["records_out_per_second", "out/s", job.rates.records_out_per_second, rate(job.rates.records_out_per_second)],
    ["parallelism", "parallelism", job.parallelism, String(job.parallelism)],
    ["runs", "runs", job.runs, String(job.runs)],
    ["watermark", "watermark", job.watermark_unix_millis ?? "",
      job.watermark_unix_millis === null ? "none" : time(job.watermark_unix_millis)],
    ["resumed_from", "resumed from", job.resumed_from ?? "", job.resumed_from ?? "the beginning"],
  ];
  const list = document.getElementById("job-counters");
  list.replaceChildren();
  for (const [field, label, value, text] of items) {
    const box = element("div");
    box.append(element("dt", {}, label), element("dd", { "data-field": field, "data-value": String(value) }, text));
    list.append(box);
  }
  if (!c.complete) {
    const box = element("div");
    box.append(element("dt", {}, "note"), element("dd", {}, "live: some counters follow at the end"));
    list.append(box);
  }
}

// Sources left, sinks right: a node's column is the longest path from a source to it.
function renderGraph(job) {
  const svg = document.getElementById("graph");
  svg.replaceChildren();
  const nodes = job.graph.nodes;
  if (nodes.length === 0) {
    svg.setAttribute("viewBox", "0 0 600 30");
    svg.append(svgElement("text", { x: 4, y: 20, fill: "#6b7585" }, "no graph: this server has not planned the job"));
    return;
  }
  const depth = nodes.map(() => 0);
  for (let pass = 0; pass < nodes.length; ++pass) {
    for (const edge of job.graph.edges) depth[edge.to] = Math.max(depth[edge.to], depth[edge.from] + 1);
  }
  const columns = [];
  nodes.forEach((node, i) => (columns[depth[i]] = columns[depth[i]] || []).push(i));
  const width = 190, height = 44, gapX = 60, gapY = 18;
  const position = [];
  columns.forEach((column, x) =>
    column.forEach((i, y) => (position[i] = { x: 10 + x * (width + gapX), y: 10 + y * (height + gapY) })));
  const totalWidth = 20 + columns.length * (width + gapX) - gapX;
  const totalHeight = 20 + Math.max(...columns.map((c) => c.length)) * (height + gapY) - gapY;
  svg.setAttribute("viewBox", `0 0 ${totalWidth} ${totalHeight}`);
  svg.setAttribute("preserveAspectRatio", "xMinYMin meet");
  svg.setAttribute("height", String(Math.min(totalHeight, 360)));
  const defs = svgElement("defs");
  const marker = svgElement("marker",
    { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto" });
  marker.append(svgElement("path", { d: "M0,0 L10,5 L0,10 z", fill: "#6b7585" }));
  defs.append(marker);
  svg.append(defs);
  for (const edge of job.graph.edges) {
    const from = position[edge.from], to = position[edge.to];
    const x1 = from.x + width, y1 = from.y + height / 2, x2 = to.x, y2 = to.y + height / 2;
    svg.append(svgElement("path", {
      d: `M${x1},${y1} C${x1 + gapX / 2},${y1} ${x2 - gapX / 2},${y2} ${x2},${y2}`,
      fill: "none", stroke: "#6b7585", "stroke-width": 1.5, "marker-end": "url(#arrow)" }));
    // The runtime counts records per job and per task, not per logical operator: the job's
    // input rate leaves the sources, its output rate enters the sinks (the task graph below has
    // the rates per task and channel).
    let label = null;
    if (nodes[edge.from].kind === "source") label = rate(job.rates.records_in_per_second) + "/s";
    else if (nodes[edge.to].kind === "sink") label = rate(job.rates.records_out_per_second) + "/s";
    if (label) {
      svg.append(svgElement("text", { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 4, "text-anchor": "middle",
        "font-size": 10, fill: "#1d2430" }, label));
    }
  }
  const colors = { source: "#dbeafe", operator: "#f3f4f6", sink: "#fef3c7" };
  nodes.forEach((node, i) => {
    const { x, y } = position[i];
    const group = svgElement("g", { "data-node": String(i), "data-kind": node.kind });
    group.append(svgElement("title", {}, node.label));
    group.append(svgElement("rect", { x, y, width, height, rx: 4, fill: colors[node.kind] || "#fff",
      stroke: "#9ca3af" }));
    group.append(svgElement("text", { x: x + 6, y: y + 14, "font-size": 10, fill: "#6b7585" },
      node.kind + (node.statement ? " · " + node.statement : "")));
    const text = node.label.length > 32 ? node.label.slice(0, 31) + "…" : node.label;
    group.append(svgElement("text", { x: x + 6, y: y + 32, "font-size": 12, fill: "#1d2430" }, text));
    svg.append(group);
  });
}

function percent(share) {
  return (100 * Number(share)).toFixed(0) + " %";
}

// The runtime's tasks (workers left, the coordinator right) and its channels, summed per pair
// of tasks: an edge to the coordinator goes right, an exchange between workers curves on the
// left (a loop for a worker's own share). Each node shows its records in and out per second and
// its busy and backpressured shares over the last snapshot (a bar: busy blue, backpressured
// red); each edge its records per second. Live while the job runs, on any number of workers.
function renderTaskGraph(job) {
  const svg = document.getElementById("task-graph");
  svg.replaceChildren();
  const tasks = job.tasks;
  if (tasks.length === 0) {
    svg.setAttribute("viewBox", "0 0 600 30");
    svg.setAttribute("height", "30");
    svg.append(svgElement("text", { x: 4, y: 20, fill: "#6b7585" }, "no tasks yet"));
    return;
  }
  const width = 230, height = 58, gapY = 14, gapX = 120, left = 150;
  const coordinator = tasks.findIndex((task) => task.task === "coordinator");
  const position = [];
  let row = 0;
  tasks.forEach((task, i) => {
    if (i !== coordinator) position[i] = { x: left, y: 10 + (row++) * (height + gapY) };
  });
  const rows = Math.max(row, 1);
  const totalHeight = 20 + rows * (height + gapY) - gapY;
  if (coordinator >= 0) {
    position[coordinator] = { x: left + width + gapX, y: 10 + (totalHeight - 20 - height) / 2 };
  }
  const totalWidth = left + width + (coordinator >= 0 ? gapX + width : 0) + 10;
  svg.setAttribute("viewBox", `0 0 ${totalWidth} ${totalHeight}`);
  svg.setAttribute("preserveAspectRatio", "xMinYMin meet");
  svg.setAttribute("height", String(Math.min(totalHeight, 420)));
  const defs = svgElement("defs");
  const marker = svgElement("marker",
    { id: "task-arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto" });
  marker.append(svgElement("path", { d: "M0,0 L10,5 L0,10 z", fill: "#6b7585" }));
  defs.append(marker);
  svg.append(defs);
  // Channels summed per (from, to) pair of tasks.
  const pairs = new Map();
  for (const channel of job.channels) {
    const key = channel.from_task + "-" + channel.to_task;
    const pair = pairs.get(key) ||
      { from: channel.from_task, to: channel.to_task, rate: 0, sent: 0, queued: 0, capacity: 0, kinds: new Set() };
    pair.rate += channel.records_per_second;
    pair.sent += channel.records_sent;
    pair.queued += channel.queued;
    pair.capacity += channel.capacity;
    pair.kinds.add(channel.kind);
    pairs.set(key, pair);
  }
  const label = (x, y, text, anchor) => svgElement("text",
    { x, y, "text-anchor": anchor || "middle", "font-size": 10, fill: "#1d2430" }, text);
  for (const pair of pairs.values()) {
    const from = position[pair.from], to = position[pair.to];
    if (!from || !to) continue;
    let d, lx, ly, anchor = "middle";
    if (pair.to === coordinator) {
      const x1 = from.x + width, y1 = from.y + height / 2, x2 = to.x, y2 = to.y + height / 2;
      d = `M${x1},${y1} C${x1 + gapX / 2},${y1} ${x2 - gapX / 2},${y2} ${x2},${y2}`;
      lx = (x1 + x2) / 2; ly = (y1 + y2) / 2 - 4;
    } else if (pair.from === pair.to) {
      const x = from.x, y1 = from.y + height * 0.3, y2 = from.y + height * 0.7;
      d = `M${x},${y1} C${x - 40},${y1 - 10} ${x - 40},${y2 + 10} ${x},${y2}`;
      lx = x - 32; ly = from.y + height / 2 + 3;
      anchor = "end";
    } else {
      // Downward arcs inside, upward ones outside, so that a pair's two labels stay apart.
      const down = pair.from < pair.to;
      const x = from.x, y1 = from.y + height * (down ? 0.8 : 0.2), y2 = to.y + height * (down ? 0.2 : 0.8);
      const bulge = Math.min(left - 10, (down ? 50 : 100) + 15 * Math.abs(pair.to - pair.from));
      d = `M${x},${y1} C${x - bulge},${y1} ${x - bulge},${y2} ${x},${y2}`;
      lx = x - bulge * 0.75 - 2; ly = (y1 + y2) / 2 + 3;
      anchor = "end";
    }
    const group = svgElement("g", { "data-channel": `${pair.from}->${pair.to}`,
      "data-channel-kind": [...pair.kinds].join(","), "data-records-per-second": String(pair.rate),
      "data-records-sent": String(pair.sent) });
    const fill = pair.capacity > 0 ? pair.queued / pair.capacity : 0;
    group.append(svgElement("title", {}, `${[...pair.kinds].join(", ")}: ${integer(pair.sent)} records sent, ` +
      `${rate(pair.rate)}/s; ${pair.queued} of ${pair.capacity} batches queued`));
    group.append(svgElement("path", { d, fill: "none", stroke: fill >= 0.75 ? "#b91c1c" : "#6b7585",
      "stroke-width": 1.5, "marker-end": "url(#task-arrow)" }));
    group.append(label(lx, ly, rate(pair.rate) + "/s", anchor));
    svg.append(group);
  }
  tasks.forEach((task, i) => {
    const { x, y } = position[i];
    const rates = { in: task.records_in_per_second, out: task.records_out_per_second };
    const group = svgElement("g", { "data-task": task.task, "data-records-in-per-second": String(rates.in),
      "data-records-out-per-second": String(rates.out), "data-busy-share": String(task.busy_share),
      "data-backpressured-share": String(task.backpressured_share) });
    group.append(svgElement("title", {}, `${task.task} (${task.placement || "placement not known yet"}): ` +
      `${integer(task.records_in)} records in, ${integer(task.records_out)} out`));
    group.append(svgElement("rect", { x, y, width, height, rx: 4, fill: "#f3f4f6", stroke: "#9ca3af" }));
    group.append(svgElement("text", { x: x + 6, y: y + 14, "font-size": 11, "font-weight": 600, fill: "#1d2430" },
      task.task));
    group.append(svgElement("text", { x: x + 6, y: y + 29, "font-size": 10, fill: "#1d2430" },
      `in ${rate(rates.in)}/s · out ${rate(rates.out)}/s`));
    group.append(svgElement("text", { x: x + 6, y: y + 43, "font-size": 10, fill: "#6b7585" },
      `busy ${percent(task.busy_share)} · backpressured ${percent(task.backpressured_share)}`));
    const bar = width - 12;
    group.append(svgElement("rect", { x: x + 6, y: y + 49, width: bar, height: 4, fill: "#e5e7eb" }));
    group.append(svgElement("rect", { x: x + 6, y: y + 49, width: bar * task.busy_share, height: 4, fill: "#2563eb" }));
    group.append(svgElement("rect", { x: x + 6 + bar * task.busy_share, y: y + 49,
      width: bar * task.backpressured_share, height: 4, fill: "#b91c1c" }));
    svg.append(group);
  });
}

function renderTasks(job) {
  const body = document.querySelector("#tasks tbody");
  body.replaceChildren();
  for (const task of job.tasks) {
    const total = task.busy_seconds + task.idle_seconds + task.backpressured_seconds;
    const share = (value) => (total > 0 ? ((100 * value) / total).toFixed(1) + " %" : "–");
    const row = element("tr");
    row.append(element("td", {}, task.task), element("td", {}, task.placement),
      element("td", { class: "num" }, rate(task.records_in_per_second)),
      element("td", { class: "num" }, rate(task.records_out_per_second)),
      element("td", { class: "num" }, share(task.busy_seconds)),
      element("td", { class: "num" }, share(task.idle_seconds)),
      element("td", { class: "num", "data-field": "backpressured" }, share(task.backpressured_seconds)));
    body.append(row);
  }
}

// A line chart of series [{points: [[x, y], …], color}] in an SVG of its own width.
function renderChart(id, series, empty) {
  const svg = document.getElementById(id);
  svg.replaceChildren();
  const width = 360, height = 120, left = 46, bottom = 16, top = 8, right = 6;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const points = series.flatMap((s) => s.points);
  if (points.length === 0) {
    svg.append(svgElement("text", { x: width / 2, y: height / 2, "text-anchor": "middle", "font-size": 11,
      fill: "#6b7585" }, empty));
    return;
  }
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  let x0 = Math.min(...xs), x1 = Math.max(...xs);
  if (x1 === x0) { x0 -= 1; x1 += 1; }
  const y1 = Math.max(...ys) > 0 ? Math.max(...ys) * 1.1 : 1;
  const sx = (x) => left + ((x - x0) / (x1 - x0)) * (width - left - right);
  const sy = (y) => top + (1 - y / y1) * (height - top - bottom);
  svg.append(svgElement("line", { x1: left, y1: sy(0), x2: width - right, y2: sy(0), stroke: "#d9dee6" }));
  svg.append(svgElement("line", { x1: left, y1: top, x2: left, y2: sy(0), stroke: "#d9dee6" }));
  svg.append(svgElement("text", { x: left - 4, y: top + 8, "text-anchor": "end", "font-size": 10, fill: "#6b7585" },
    axis(y1)));
  svg.append(svgElement("text", { x: left - 4, y: sy(0), "text-anchor": "end", "font-size": 10, fill: "#6b7585" },
    "0"));
  svg.append(svgElement("text", { x: width - right, y: height - 3, "text-anchor": "end", "font-size": 10,
    fill: "#6b7585" }, new Date(x1).toISOString().slice(11, 19)));
  for (const s of series) {
    if (s.points.length === 0) continue;
    const path = s.points.map((p) => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(" ");
    svg.append(svgElement("polyline", { points: path, fill: "none", stroke: s.color, "stroke-width": 1.5 }));
    for (const p of s.points.length <= 30 ? s.points : []) {
      svg.append(svgElement("circle", { cx: sx(p[0]), cy: sy(p[1]), r: 2, fill: s.color }));
    }
  }
}

function renderCharts(job, samples) {
  const inRate = [], outRate = [], lag = [];
  for (let i = 0; i < samples.length; ++i) {
    const s = samples[i];
    if (s.watermark_unix_millis !== null) lag.push([s.unix_millis, (s.unix_millis - s.watermark_unix_millis) / 1000]);
    if (i === 0) continue;
    const before = samples[i - 1];
    const span = (s.unix_millis - before.unix_millis) / 1000;
    if (span <= 0) continue;
    inRate.push([s.unix_millis, (s.records_in - before.records_in) / span]);
    outRate.push([s.unix_millis, (s.records_out - before.records_out) / span]);
  }
  renderChart("chart-throughput", [{ points: inRate, color: "#2563eb" }, { points: outRate, color: "#d97706" }],
    samples.length < 2 ? "waiting for a second snapshot" : "no data");
  renderChart("chart-lag", [{ points: lag, color: "#7c3aed" }], "no watermark yet");
  const durations = job.checkpoints.history.map((c) => [c.seen_unix_millis, c.duration_seconds]);
  renderChart("chart-checkpoints", [{ points: durations, color: "#15803d" }],
    job.checkpoints.disabled ? "checkpoints disabled" : "no checkpoint yet");
}

function renderCheckpoints(job) {
  const c = job.checkpoints;
  const notes = [];
  if (c.disabled) notes.push("Checkpoints disabled: " + c.disabled);
  else notes.push(`${c.completed_this_run} this run; latest ${c.latest ?? "none"}; directory ${c.directory}`);
  notes.push("latest savepoint: " + (job.savepoints.latest ?? "none"));
  document.getElementById("checkpoints-note").textContent = notes.join(" · ");
  const body = document.querySelector("#checkpoints tbody");
  body.replaceChildren();
  for (const record of c.history.slice().reverse()) {
    const row = element("tr", { "data-checkpoint": String(record.id) });
    row.append(element("td", { class: "num" }, String(record.id)), element("td", {}, time(record.seen_unix_millis)),
      element("td", { class: "num" }, seconds(record.duration_seconds)),
      element("td", { class: "num" }, seconds(record.write_seconds)),
      element("td", { class: "num" }, bytes(record.state_bytes)));
    body.append(row);
  }
}

async function renderJob(id) {
  const [job, history] = await Promise.all([api(`/jobs/${id}`), api(`/jobs/${id}/history`)]);
  if (id !== state.selected) return;
  document.getElementById("job").hidden = false;
  for (const [id, value] of [["job-id", job.id], ["job-name", job.name]]) {
    const node = document.getElementById(id);
    node.textContent = value;
    node.setAttribute("data-value", value);
  }
  const badge = document.getElementById("job-state");
  badge.textContent = job.state;
  badge.className = "state " + job.state;
  badge.setAttribute("data-value", job.state);
  const error = document.getElementById("job-error");
  error.hidden = !job.error;
  error.textContent = job.error || "";
  document.getElementById("savepoint").hidden = job.state !== "running" || job.checkpoints.disabled !== null;
  document.getElementById("stop").hidden = job.state !== "running";
  document.getElementById("cancel").hidden = job.state !== "running";
  renderCounters(job);
  renderGraph(job);
  renderTaskGraph(job);
  renderTasks(job);
  renderCharts(job, history.samples);
  renderCheckpoints(job);
  document.getElementById("sql").textContent = job.sql;
  if (state.planOf !== id || state.planState !== job.state) {
    document.getElementById("plan").textContent = await api(`/jobs/${id}/plan`);
    state.planOf = id;
    state.planState = job.state;
  }
}

function select(id) {
  state.selected = id;
  setFragment();
  poll();
}

let polling = false;
async function poll() {
  if (polling) return;
  polling = true;
  try {
    const { jobs } = await api("/jobs");
    if (!jobs.some((job) => job.id === state.selected)) state.selected = jobs.length ? jobs[jobs.length - 1].id : null;
    renderJobs(jobs);
    if (state.selected) await renderJob(state.selected);
    else document.getElementById("job").hidden = true;
    document.getElementById("login").hidden = true;
    document.getElementById("status").textContent = "updated " + new Date().toLocaleTimeString("en-GB");
  } catch (error) {
    if (error instanceof Unauthorized) document.getElementById("login").hidden = false;
    document.getElementById("status").textContent = "error: " + error.message;
  } finally {
    polling = false;
  }
}

async function act(method, suffix) {
  if (!state.selected) return;
  try {
    await api(`/jobs/${state.selected}${suffix}`, { method });
  } catch (error) {
    document.getElementById("status").textContent = "error: " + error.message;
  }
  poll();
}

function start() {
  const initial = fragment();
  state.token = initial.token || sessionStorage.getItem("sluice-token") || "";
  if (initial.token) sessionStorage.setItem("sluice-token", initial.token);
  state.selected = initial.job;
  setFragment();  // the token leaves the address bar
  document.getElementById("login").addEventListener("submit", (event) => {
    event.preventDefault();
    state.token = document.getElementById("token").value;
    sessionStorage.setItem("sluice-token", state.token);
    poll();
  });
  document.getElementById("savepoint").addEventListener("click", () => act("POST", "/savepoints"));
  document.getElementById("stop").addEventListener("click", () => act("POST", "/stop"));
  document.getElementById("cancel").addEventListener("click", () => act("DELETE", ""));
  poll();
  setInterval(poll, POLL_MILLIS);
}

start();
