"use strict";
// archc's diagram page: pan/zoom, click to expand, hover cards, diagnostics, search, legend.
// Every text from the spec goes in with textContent; the SVGs come from graphviz and are
// sanitized again before they enter the document.
(() => {
  const data = JSON.parse(document.getElementById("archc-data").textContent);
  const order = data.order;
  const el = (tag, cls, text, ...kids) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    kids.forEach((k) => e.append(k));
    return e;
  };
  const fmt = (n) => Number(n).toLocaleString("en-US");

  // ---- the frame ------------------------------------------------------------------------
  const header = el("header");
  header.append(el("h1", "", data.name), el("span", "sum", data.summary));
  const levelBar = el("span", "levels");
  const buttons = {};
  order.forEach((lv) => {
    const b = el("button", "", data.levels[lv].label);
    b.type = "button";
    b.dataset.level = lv;
    b.addEventListener("click", () => show(lv));
    buttons[lv] = b;
    levelBar.append(b);
  });
  const search = el("input");
  search.type = "search";
  search.placeholder = "search node name";
  search.id = "search";
  const hint = el("span", "", "click a node to expand it · drag to pan · wheel to zoom");
  hint.id = "hint";
  header.append(levelBar, search, hint);
  if (data.description) header.append(el("span", "sum", data.description));
  const live = el("span", "", data.live ? "live: follows the spec file" : "");
  live.id = "live";
  header.append(live);
  const errors = el("div");
  errors.id = "errors";
  const view = el("div");
  view.id = "view";
  const aside = el("aside");
  const main = el("main", "", null, view, aside);
  const card = el("div");
  card.id = "card";
  card.hidden = true;
  document.body.append(header, errors, main, card);

  data.errors.forEach((d) => {
    errors.append(el("div", "", `${d.code} ${d.severity}: ${d.message}` +
      (d.where ? ` (${d.where})` : "") + (d.hint ? ` = hint: ${d.hint}` : "")));
  });
  if (data.errors.length) {
    errors.prepend(el("div", "", "The spec has errors; the diagram below is the last good one."));
  }

  // ---- diagnostics and legend -------------------------------------------------------------
  aside.append(el("h2", "", `diagnostics (${data.diagnostics.length})`));
  const list = el("ul");
  list.id = "diagnostics";
  data.diagnostics.forEach((d, i) => {
    const b = el("button", `diag ${d.severity}`, null, el("span", "code", `${d.code} `),
      el("span", "", `${d.severity}: ${d.message}`));
    if (d.where) b.append(el("div", "where", d.where));
    b.type = "button";
    b.dataset.index = String(i);
    b.addEventListener("click", () => select(i));
    list.append(el("li", "", null, b));
  });
  if (!data.diagnostics.length) list.append(el("li", "", "none"));
  aside.append(list, el("h2", "", "legend"));
  const legend = el("ul");
  legend.id = "legend";
  [["proj", "projection shortcut (1x1 conv + norm)"], ["pad", "zero-pad shortcut"],
    ["id", "identity shortcut"], ["branch", "side branch (squeeze-excitation)"],
    ["flag", "a diagnostic points here"], ["run", "×N: a stage, or a run of N identical blocks"]]
    .forEach(([k, t]) => legend.append(el("li", "", null, el("span", `key ${k}`), t)));
  aside.append(legend);

  // ---- SVGs -------------------------------------------------------------------------------
  const cache = {};
  const unsafe = /^on/i;
  function sanitize(root) {
    root.querySelectorAll("script, foreignObject, iframe, object, embed, use, image")
      .forEach((n) => n.remove());
    root.querySelectorAll("*").forEach((n) => {
      [...n.attributes].forEach((a) => {
        const v = a.value.trim().toLowerCase();
        if (unsafe.test(a.name) || /href$/i.test(a.name) || v.startsWith("javascript:")) {
          n.removeAttribute(a.name);
        }
      });
    });
    return root;
  }
  async function unpack(b64) {  // base64 of gzip, as the page was written
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text();
  }
  async function svgOf(level) {
    if (!cache[level]) {
      const lv = data.levels[level];
      if (typeof lv.cards === "string") lv.cards = JSON.parse(await unpack(lv.cards));
      const text = await unpack(lv.svg);
      const doc = new DOMParser().parseFromString(text, "image/svg+xml");
      const svg = sanitize(document.importNode(doc.documentElement, true));
      svg.removeAttribute("width");
      svg.removeAttribute("height");
      cache[level] = svg;
    }
    return cache[level];
  }

  // ---- pan and zoom -----------------------------------------------------------------------
  const state = { level: null, svg: null, vb: null };
  const setVB = (vb) => {
    state.vb = vb;
    state.svg.setAttribute("viewBox", `${vb.x} ${vb.y} ${vb.w} ${vb.h}`);
  };
  const toSvg = (x, y) => {
    const p = state.svg.createSVGPoint();
    p.x = x;
    p.y = y;
    return p.matrixTransform(state.svg.getScreenCTM().inverse());
  };
  function fit() {
    const [x, y, w, h] = state.svg.dataset.box.split(" ").map(Number);
    const r = view.getBoundingClientRect();
    if (h / w > 2.5 * (r.height / r.width)) {  // very tall: fit the width, show the top
      setVB({ x, y, w, h: w * r.height / r.width });
    } else {
      setVB({ x, y, w, h });
    }
  }
  function zoomTo(ids) {
    const boxes = ids.map((id) => state.svg.getElementById(id)).filter(Boolean)
      .map((n) => n.getBoundingClientRect());
    if (!boxes.length) return;
    const a = toSvg(Math.min(...boxes.map((b) => b.left)), Math.min(...boxes.map((b) => b.top)));
    const b = toSvg(Math.max(...boxes.map((b) => b.right)), Math.max(...boxes.map((b) => b.bottom)));
    const pad = 40;
    const r = view.getBoundingClientRect();
    let w = Math.max(b.x - a.x + 2 * pad, 300);
    let h = Math.max(b.y - a.y + 2 * pad, 200);
    if (w / h < r.width / r.height) w = h * r.width / r.height; else h = w * r.height / r.width;
    setVB({ x: (a.x + b.x) / 2 - w / 2, y: (a.y + b.y) / 2 - h / 2, w, h });
  }
  view.addEventListener("wheel", (e) => {
    if (!state.svg) return;
    e.preventDefault();
    const k = Math.exp(e.deltaY * 0.0015);
    const p = toSvg(e.clientX, e.clientY);
    const vb = state.vb;
    setVB({ x: p.x - (p.x - vb.x) * k, y: p.y - (p.y - vb.y) * k, w: vb.w * k, h: vb.h * k });
  }, { passive: false });
  let drag = null;
  view.addEventListener("pointerdown", (e) => {
    drag = { x: e.clientX, y: e.clientY, vb: { ...state.vb }, moved: 0 };
  });
  window.addEventListener("pointermove", (e) => {
    if (!drag || !state.svg) return;
    const r = view.getBoundingClientRect();
    const s = Math.max(drag.vb.w / r.width, drag.vb.h / r.height);
    const dx = e.clientX - drag.x;
    const dy = e.clientY - drag.y;
    drag.moved = Math.max(drag.moved, Math.abs(dx) + Math.abs(dy));
    if (drag.moved > 3) setVB({ ...drag.vb, x: drag.vb.x - dx * s, y: drag.vb.y - dy * s });
  });
  window.addEventListener("pointerup", () => { setTimeout(() => { drag = null; }, 0); });

  // ---- levels, expanding, marks -------------------------------------------------------------
  const mark = (cls, ids) => {
    state.svg.querySelectorAll(`.${cls}`).forEach((n) => n.classList.remove(cls));
    ids.forEach((id) => { const n = state.svg.getElementById(id); if (n) n.classList.add(cls); });
  };
  async function show(level, focus) {
    const svg = await svgOf(level);
    if (!svg.dataset.box) {
      view.replaceChildren(svg);
      svg.dataset.box = svg.getAttribute("viewBox").trim().split(/[\s,]+/).join(" ");
    }
    view.replaceChildren(svg);
    state.level = level;
    state.svg = svg;
    order.forEach((lv) => buttons[lv].classList.toggle("on", lv === level));
    try { sessionStorage.setItem("archc-level", level); } catch (e) { /* file: pages */ }
    fit();
    if (focus && focus.length) {
      zoomTo(focus);
      mark("focus", focus);
    }
    api.level = level;
    return svg;
  }
  const cards = () => data.levels[state.level].cards;
  view.addEventListener("click", (e) => {
    if (drag && drag.moved > 3) return;
    const g = e.target.closest("g.node, g.cluster");
    if (!g) return;
    const next = order[order.indexOf(state.level) + 1];
    const drill = (data.levels[state.level].drill || {})[g.id];
    if (next && drill) show(next, drill);
  });

  // ---- hover cards --------------------------------------------------------------------------
  function fill(c) {
    card.replaceChildren(el("b", "", c.name));
    const t = el("table");
    const row = (k, v) => { if (v !== undefined && v !== "") t.append(el("tr", "", null, el("td", "", k), el("td", "", v))); };
    row("op", c.op);
    row("tensor", c.tensor);
    row("input", c.in && c.in.join(", "));
    row("output", c.out);
    if (c.params !== undefined) row("params", fmt(c.params));
    if (c.macs !== undefined) row("MACs", fmt(c.macs));
    row("source", c.where && c.where.join("\n"));
    const st = c.stage !== undefined && data.stages ? data.stages[c.stage] : null;
    row("stage", st && st.join("\n"));
    card.append(t);
  }
  view.addEventListener("mouseover", (e) => {
    const g = e.target.closest("g.node, g.edge, g.cluster");
    const c = g && cards()[g.id];
    if (!c) { card.hidden = true; return; }
    fill(c);
    card.dataset.id = g.id;
    card.hidden = false;
  });
  view.addEventListener("mousemove", (e) => {
    card.style.left = `${Math.min(e.clientX + 14, window.innerWidth - 430)}px`;
    card.style.top = `${Math.min(e.clientY + 14, window.innerHeight - 200)}px`;
  });
  view.addEventListener("mouseleave", () => { card.hidden = true; });

  // ---- diagnostics and search ---------------------------------------------------------------
  async function select(i) {
    const has = (lv) => data.levels[lv].targets[i].length;
    const level = has(state.level) ? state.level : [...order].reverse().find(has);
    if (!level) return [];
    await show(level);
    const ids = data.levels[level].targets[i];
    mark("selected", ids);
    zoomTo(ids);
    api.selected = ids;
    return ids;
  }
  search.addEventListener("input", () => {
    const q = search.value.trim().toLowerCase();
    const found = q ? Object.entries(cards()).filter(([, c]) => !c.edge && (
      String(c.name).toLowerCase().includes(q) ||
      (c.ir || []).some((n) => n.toLowerCase().includes(q)))).map(([id]) => id) : [];
    mark("found", found);
    hint.textContent = q ? `${found.length} found` : "";
    if (found.length) zoomTo(found.slice(0, 1));
    api.found = found;
  });

  // ---- live preview: reload when the server's version changes --------------------------------
  const api = { ready: false, level: null, selected: [], found: [], show, select, data };
  window.archc = api;
  if (data.live) {
    let version = null;
    const poll = async () => {
      try {
        const v = await (await fetch("/version", { cache: "no-store" })).text();
        if (version !== null && v !== version) { location.reload(); return; }
        version = v;
      } catch (e) { live.textContent = "live: server stopped"; }
      setTimeout(poll, 300);
    };
    poll();
  }
  let start = order[0];
  try {
    const saved = sessionStorage.getItem("archc-level");
    if (data.live && saved && data.levels[saved]) start = saved;
  } catch (e) { /* file: pages */ }
  show(start).then(() => { api.ready = true; document.body.dataset.ready = "1"; });
})();
