// The viewer page: every image is one request to the JSON/PNG API (nothing pre-rendered).
"use strict";
const $ = (id) => document.getElementById(id);
let meta = null, playing = null, psnr = null;

async function showPng(img, url, msOutput) {
  const response = await fetch(url);
  if (!response.ok) { msOutput.textContent = (await response.json()).error; return false; }
  if (msOutput) msOutput.textContent = response.headers.get("X-Decode-Ms");
  const blob = await response.blob();
  const loaded = new Promise((resolve) => { img.onload = resolve; });
  img.src = URL.createObjectURL(blob);
  await loaded;
  return true;
}

function drawDifference() {
  const a = $("decoded"), b = $("truth"), canvas = $("diff");
  if (!a.naturalWidth || !b.naturalWidth || a.naturalWidth !== b.naturalWidth) return;
  canvas.width = a.naturalWidth; canvas.height = a.naturalHeight;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(a, 0, 0); const da = ctx.getImageData(0, 0, canvas.width, canvas.height);
  ctx.drawImage(b, 0, 0); const db = ctx.getImageData(0, 0, canvas.width, canvas.height);
  for (let i = 0; i < da.data.length; i += 4) {
    for (let c = 0; c < 3; c++) da.data[i + c] = Math.min(255, 4 * Math.abs(da.data[i + c] - db.data[i + c]));
  }
  ctx.putImageData(da, 0, 0);
}

async function showFrame(k) {
  $("scrubber").value = k; $("frame-number").textContent = k;
  const scale = $("scale").value;
  await showPng($("decoded"), `/api/frame/${k}.png?scale=${scale}`, $("decode-ms"));
  $("decoded").dataset.frame = k;
  if (meta.source && Number(scale) === 1) {
    await showPng($("truth"), `/api/truth/${k}.png`, null);
    drawDifference();
  }
  document.querySelectorAll("#psnr-plot circle").forEach((c) => c.classList.toggle("current", Number(c.dataset.frame) === k));
}

async function showTime(t) {
  $("time-value").textContent = Number(t).toFixed(2);
  await showPng($("interpolated"), `/api/time.png?t=${t}&interpolator=${$("interpolator").value}`, $("time-ms"));
  $("interpolated").dataset.time = t;
}

function plotPsnr(values, worst) {
  const svg = $("psnr-plot"), w = svg.width.baseVal.value, h = svg.height.baseVal.value;
  const low = Math.min(...values), high = Math.max(...values), span = Math.max(high - low, 1e-6);
  const ns = "http://www.w3.org/2000/svg";
  values.forEach((v, k) => {
    const dot = document.createElementNS(ns, "circle");
    dot.setAttribute("cx", 5 + (w - 10) * k / Math.max(values.length - 1, 1));
    dot.setAttribute("cy", h - 5 - (h - 10) * (v - low) / span);
    dot.setAttribute("r", 3); dot.dataset.frame = k;
    if (k === worst) dot.classList.add("worst");
    const title = document.createElementNS(ns, "title"); title.textContent = `frame ${k}: ${v.toFixed(2)} dB`;
    dot.appendChild(title); dot.addEventListener("click", () => showFrame(k));
    svg.appendChild(dot);
  });
  $("worst").textContent = `(worst: frame ${worst}, ${values[worst].toFixed(2)} dB)`;
}

async function start() {
  meta = await (await fetch("/api/meta")).json();
  $("run").textContent = `${meta.name}: ${meta.frames} frames ${meta.height}x${meta.width} at ${Number(meta.fps.toFixed(2))} fps`;
  $("scrubber").max = meta.frames - 1; $("time").max = meta.frames - 1;
  for (const s of [0.5, 1, 1.5, 2, 3, 4]) $("scale").add(new Option(`${s}x`, s, s === 1, s === 1));
  for (const name of meta.interpolators) $("interpolator").add(new Option(name, name));
  $("truth-box").hidden = $("diff-box").hidden = !meta.source;
  $("scrubber").addEventListener("input", (e) => showFrame(Number(e.target.value)));
  $("scale").addEventListener("change", () => showFrame(Number($("scrubber").value)));
  $("time").addEventListener("input", (e) => showTime(e.target.value));
  $("interpolator").addEventListener("change", () => showTime($("time").value));
  $("play").addEventListener("click", () => {
    if (playing) { clearInterval(playing); playing = null; $("play").textContent = "play"; return; }
    $("play").textContent = "pause";
    playing = setInterval(() => showFrame((Number($("scrubber").value) + 1) % meta.frames), 1000 / meta.fps);
  });
  await showFrame(0); await showTime(0);
  if (meta.source) {
    const response = await fetch("/api/metrics");
    if (response.ok) { psnr = await response.json(); $("psnr-box").hidden = false; plotPsnr(psnr.frame_psnr, psnr.worst_frame); }
  }
  document.body.dataset.ready = "true";
}
start();
