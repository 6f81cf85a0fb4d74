// The search page: text queries and "more like this" go to the JSON API; every thumbnail is a frame
// decoded from that video's latent on request (the frame most like the query).
"use strict";
const $ = (id) => document.getElementById(id);
const GALLERY = 48;
let meta = null;

function card(video, extra) {
  const item = document.createElement("li");
  item.className = "hit"; item.dataset.video = video.video; item.dataset.name = video.name;
  const img = document.createElement("img");
  img.alt = `${video.name}, frame ${extra.frame}`; img.loading = "eager"; img.src = video.thumbnail;
  const label = document.createElement("div");
  label.className = "label";
  label.textContent = extra.score === undefined ? video.name : `${extra.rank}. ${video.name}`;
  item.append(img, label);
  if (extra.score !== undefined) {
    const score = document.createElement("div");
    score.className = "score"; score.textContent = `score ${extra.score.toFixed(4)} · frame ${extra.frame}`;
    item.append(score);
  }
  const more = document.createElement("button");
  more.type = "button"; more.className = "more"; more.textContent = "more like this";
  more.addEventListener("click", () => similar(video.video, video.name));
  item.append(more);
  return item;
}

async function showResults(url, title) {
  const list = $("results"), error = $("search-error");
  delete list.dataset.query;
  const response = await fetch(url);
  const body = await response.json();
  if (!response.ok) { error.textContent = body.error; error.hidden = false; return; }
  error.hidden = true;
  $("results-title").textContent = title;
  list.replaceChildren(...body.results.map((r) => card(r, r)));
  // Ready once every thumbnail has arrived (the browser tests wait on this).
  await Promise.all([...list.querySelectorAll("img")].map((img) => img.decode().catch(() => null)));
  list.dataset.query = body.query.text ?? `video:${body.query.video}`;
}

function topK() { return Math.max(1, Math.min(meta.max_top_k, Number($("top-k").value) || 8)); }

function similar(video, name) {
  return showResults(`/api/similar/${video}?top_k=${topK()}`, `More like ${name}`);
}

async function start() {
  meta = await (await fetch("/api/meta")).json();
  $("index").textContent = `${meta.name}: ${meta.videos.length} videos, ${meta.teacher} space (${meta.feature_dim}-dim, ${meta.pooling} pooling)`;
  $("top-k").max = meta.max_top_k;
  $("text-form").hidden = !meta.text_search;
  if (!meta.text_search) { $("text-note").textContent = `No text search: ${meta.text_note}`; $("text-note").hidden = false; }
  $("text-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("text").value.trim();
    if (text) showResults(`/api/search?text=${encodeURIComponent(text)}&top_k=${topK()}`, `Videos for "${text}"`);
  });
  // Each card decodes a thumbnail: a large index shows its first videos only (search reaches them all).
  const shown = meta.videos.slice(0, GALLERY);
  $("gallery").replaceChildren(...shown.map((v) => card(v, { frame: Math.floor(v.frames / 2) })));
  if (shown.length < meta.videos.length) $("videos-title").textContent += ` (the first ${GALLERY} of ${meta.videos.length})`;
  document.body.dataset.ready = "true";
}
start();
