// The bench page: the leaderboard table and a rate-distortion plot drawn as SVG from /api/bench
// (log bpp against PSNR; hovering near a point, or over a table row, shows its combination, bpp and PSNR).
"use strict";
const $ = (id) => document.getElementById(id);
const NS = "http://www.w3.org/2000/svg";
// Codecs in greys, combinations in colours (twenty before one repeats).
const CODEC_COLOURS = ["#222", "#777", "#aaa"];
const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#393b79",
  "#aec7e8", "#ff9896", "#98df8a", "#c5b0d5", "#ffbb78", "#c49c94", "#f7b6d2", "#9edae5", "#dbdb8d", "#637939"];
const MARGIN = { left: 56, right: 16, top: 12, bottom: 44 };
const fmt = (value, digits) => (value === null || value === undefined ? "" : Number(value).toFixed(digits));

function svg(tag, attributes, parent) {
  const element = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  parent.appendChild(element);
  return element;
}

function niceStep(span, count) {
  const raw = span / count, power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
}

// Points of one budget sit close together: the tooltip follows the point nearest the pointer and names
// the others drawn within a few pixels of it.
const NEAR = 14, SAME_PLACE = 4;
let placed = [];

function showTip(point) {
  const tip = $("tooltip");
  tip.replaceChildren();
  const lines = [point.label, `bpp ${fmt(point.bpp, 4)} · PSNR ${fmt(point.psnr, 2)} dB`];
  const others = placed.filter((p) => p !== point && Math.hypot(p.x - point.x, p.y - point.y) <= SAME_PLACE);
  for (const other of others.slice(0, 4)) lines.push(`also here: ${other.label}, ${fmt(other.psnr, 2)} dB`);
  for (const line of lines) { const div = document.createElement("div"); div.textContent = line; tip.appendChild(div); }
  tip.style.left = `${point.x + 12}px`; tip.style.top = `${point.y - 10}px`; tip.hidden = false;
  document.querySelectorAll("#rd-plot .point").forEach((c) => c.classList.toggle("active", c === point.element));
}

function hideTip() {
  $("tooltip").hidden = true;
  document.querySelectorAll("#rd-plot .point.active").forEach((c) => c.classList.remove("active"));
}

function nearest(event) {
  const box = $("rd-plot").getBoundingClientRect(), x = event.clientX - box.left, y = event.clientY - box.top;
  let best = null, distance = NEAR;
  for (const p of placed) {
    const d = Math.hypot(p.x - x, p.y - y);
    if (d <= distance) { best = p; distance = d; }
  }
  return best;
}

function plot(series) {
  const plotSvg = $("rd-plot"), width = plotSvg.width.baseVal.value, height = plotSvg.height.baseVal.value;
  const points = series.flatMap((s) => s.points);
  if (!points.length) { svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle" }, plotSvg).textContent = "no results yet"; return; }
  const logs = points.map((p) => Math.log10(p.bpp)), psnrs = points.map((p) => p.psnr);
  const pad = (low, high, by) => [low - Math.max((high - low) * 0.06, by), high + Math.max((high - low) * 0.06, by)];
  const [x0, x1] = pad(Math.min(...logs), Math.max(...logs), 0.05), [y0, y1] = pad(Math.min(...psnrs), Math.max(...psnrs), 0.5);
  const px = (bpp) => MARGIN.left + (width - MARGIN.left - MARGIN.right) * (Math.log10(bpp) - x0) / (x1 - x0);
  const py = (psnr) => height - MARGIN.bottom - (height - MARGIN.top - MARGIN.bottom) * (psnr - y0) / (y1 - y0);
  const axes = svg("g", { class: "axes" }, plotSvg);
  svg("line", { x1: MARGIN.left, y1: height - MARGIN.bottom, x2: width - MARGIN.right, y2: height - MARGIN.bottom }, axes);
  svg("line", { x1: MARGIN.left, y1: MARGIN.top, x2: MARGIN.left, y2: height - MARGIN.bottom }, axes);
  for (let power = Math.floor(x0); power <= Math.ceil(x1); power++) {
    for (const m of [1, 2, 5]) {
      const bpp = m * 10 ** power;
      if (Math.log10(bpp) < x0 || Math.log10(bpp) > x1) continue;
      svg("line", { x1: px(bpp), y1: MARGIN.top, x2: px(bpp), y2: height - MARGIN.bottom, class: "grid" }, axes);
      svg("text", { x: px(bpp), y: height - MARGIN.bottom + 16, "text-anchor": "middle" }, axes).textContent = String(Number(bpp.toPrecision(2)));
    }
  }
  const step = niceStep(y1 - y0, 6);
  for (let psnr = Math.ceil(y0 / step) * step; psnr <= y1; psnr += step) {
    svg("line", { x1: MARGIN.left, y1: py(psnr), x2: width - MARGIN.right, y2: py(psnr), class: "grid" }, axes);
    svg("text", { x: MARGIN.left - 6, y: py(psnr) + 4, "text-anchor": "end" }, axes).textContent = fmt(psnr, step < 1 ? 1 : 0);
  }
  svg("text", { x: (width + MARGIN.left) / 2, y: height - 6, "text-anchor": "middle" }, axes).textContent = "bits per pixel (log; inrzoo: 16-bit parameters)";
  svg("text", { x: 14, y: height / 2, transform: `rotate(-90 14 ${height / 2})`, "text-anchor": "middle" }, axes).textContent = "PSNR (dB)";
  plotSvg.addEventListener("mousemove", (event) => { const p = nearest(event); if (p) showTip(p); else hideTip(); });
  plotSvg.addEventListener("mouseleave", hideTip);
  const legend = $("legend");
  let codecs = 0, combinations = 0;
  series.forEach((s) => {
    const colour = s.kind === "codec" ? CODEC_COLOURS[codecs++ % CODEC_COLOURS.length] : COLOURS[combinations++ % COLOURS.length];
    const group = svg("g", { class: `series ${s.kind}` }, plotSvg);
    const sorted = [...s.points].sort((a, b) => a.bpp - b.bpp);
    if (sorted.length > 1) {
      svg("polyline", { points: sorted.map((p) => `${px(p.bpp)},${py(p.psnr)}`).join(" "), stroke: colour, class: s.kind }, group);
    }
    for (const p of sorted) {
      const attributes = { cx: px(p.bpp), cy: py(p.psnr), r: s.kind === "codec" ? 3.5 : 6, fill: colour, class: `point ${s.kind}` };
      const dot = svg("circle", attributes, group);
      dot.dataset.name = p.name;
      Object.assign(p, { element: dot, x: attributes.cx, y: attributes.cy });
      placed.push(p);
    }
    const key = document.createElement("span");
    key.className = "key"; key.style.setProperty("--colour", colour); key.textContent = s.label;
    legend.appendChild(key);
  });
}

function table(id, headers, rows) {
  const element = $(id);
  const head = document.createElement("tr");
  for (const h of headers) { const th = document.createElement("th"); th.textContent = h; head.appendChild(th); }
  element.tHead.replaceChildren(head);
  element.tBodies[0].replaceChildren(...rows.map(({ cells, point }) => {
    const tr = document.createElement("tr");
    for (const c of cells) { const td = document.createElement("td"); td.textContent = c; tr.appendChild(td); }
    if (point) {
      tr.dataset.name = point.name;
      tr.addEventListener("mouseenter", () => point.element && showTip(point));
      tr.addEventListener("mouseleave", hideTip);
    }
    return tr;
  }));
}

async function start() {
  const meta = await (await fetch("/api/meta")).json();
  const data = await (await fetch("/api/bench")).json();
  const budget = meta.fit_seconds ? `${meta.fit_seconds} s` : `${meta.fit_steps} steps`;
  $("bench").textContent = `${meta.name}: ${meta.tier} tier (${meta.status}), ${meta.video} at ${meta.resolution.join("x")}, ${meta.frames} frames, ${budget} per combination`;
  const series = [], byCombination = new Map();
  for (const row of data.leaderboard) {
    if (!byCombination.has(row.combination)) byCombination.set(row.combination, { kind: "inrzoo", label: row.combination, points: [] });
    row.point = { name: row.name, label: row.name, bpp: row.bpp, psnr: row.psnr };
    byCombination.get(row.combination).points.push(row.point);
  }
  for (const codec of data.codecs) {
    const points = data.codec_points.filter((r) => r.codec === codec).map((r) => ({ name: r.name, label: r.name, bpp: r.bpp, psnr: r.psnr }));
    series.push({ kind: "codec", label: `${codec} (CRF sweep)`, points });
  }
  series.push(...byCombination.values());
  plot(series);
  const versus = data.codecs.flatMap((c) => [`${c} PSNR @bpp`, `vs ${c}`]);
  table("leaderboard", ["rank", "combination", "params", "bpp", "bpp 8-bit", "PSNR (dB)", "worst frame", "MS-SSIM", "train s", "decode fps", ...versus],
    data.leaderboard.map((r) => ({
      point: r.point,
      cells: [r.rank, r.name, r.params?.toLocaleString("en") ?? "", fmt(r.bpp, 4), fmt(r.bpp_8bit, 4), fmt(r.psnr, 2), fmt(r.psnr_worst, 2),
        fmt(r.ms_ssim, 4), fmt(r.train_seconds, 0), fmt(r.decode_fps, 1),
        ...data.codecs.flatMap((c) => (r.versus[c] ? [fmt(r.versus[c].psnr, 2), (r.versus[c].delta >= 0 ? "+" : "") + fmt(r.versus[c].delta, 2)] : ["", ""]))],
    })));
  if (data.codec_points.length) {
    $("codecs-title").hidden = false;
    const points = series.filter((s) => s.kind === "codec").flatMap((s) => s.points);
    table("codecs", ["codec", "bytes", "bpp", "PSNR (dB)", "MS-SSIM", "encode s", "decode fps"],
      data.codec_points.map((r) => ({
        point: points.find((p) => p.name === r.name),
        cells: [r.name, r.bytes?.toLocaleString("en") ?? "", fmt(r.bpp, 4), fmt(r.psnr, 2), fmt(r.ms_ssim, 4), fmt(r.encode_seconds, 1), fmt(r.decode_fps, 0)],
      })));
  }
  $("not-run").replaceChildren(...[...data.skipped.map((s) => `skipped ${s.name}: ${s.reason}`), ...data.failed.map((f) => `failed ${f.name}: ${f.error}`)]
    .map((text) => { const li = document.createElement("li"); li.textContent = text; return li; }));
  document.body.dataset.ready = "true";
}
start();
