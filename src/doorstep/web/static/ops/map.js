// The operator's live map: today's blocks over the network, redrawn on each server-sent event.
"use strict";
(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const layer = document.getElementById("live");
  const list = document.getElementById("blocks");
  const empty = document.getElementById("no-blocks");
  const state = document.getElementById("live-state");
  const clock = document.getElementById("live-time");
  const COLOURS = ["#2563eb", "#7c3aed", "#0891b2", "#c026d3", "#4f46e5", "#0d9488"];

  function el(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
  }

  function draw(data) {
    layer.replaceChildren();
    list.replaceChildren();
    empty.hidden = data.blocks.length > 0;
    data.blocks.forEach(function (block, i) {
      const colour = COLOURS[i % COLOURS.length];
      const group = el("g", { class: "block", "data-block": block.id }, layer);
      if (block.stops.length > 1) {
        el("polyline", {
          points: block.stops.map((s) => s[0] + "," + s[1]).join(" "),
          class: "route", stroke: colour,
        }, group);
      }
      block.stops.forEach(function (s) {
        const done = s[2] !== "pending" && s[2] !== "arrived";
        const cls = "stop " + (s[3] ? "stop-late" : done ? "stop-done" : "stop-todo");
        el("circle", { cx: s[0], cy: s[1], r: s[3] ? 5 : 3.5, class: cls }, group);
      });
      if (block.at) {
        const car = el("g", { class: "driver", transform: "translate(" + block.at[0] + " " + block.at[1] + ")" }, group);
        el("circle", { r: 8, fill: colour }, car);
        const label = el("text", { x: 11, y: -8 }, car);
        label.textContent = (block.driver || "driver") + " · #" + block.id;
      }
      const item = document.createElement("li");
      item.className = "block-item" + (block.late ? " block-late" : "");
      item.dataset.block = block.id;
      const swatch = document.createElement("i");
      swatch.className = "swatch";
      swatch.style.background = colour;
      const title = document.createElement("strong");
      title.textContent = "#" + block.id + " " + block.start + " " + block.hours;
      const who = document.createElement("span");
      who.className = "small";
      who.textContent = (block.driver || "not taken") + " · " + block.status.replace("_", " ") +
        (block.seen ? " · seen " + block.seen : "");
      const counts = document.createElement("span");
      counts.className = "small counts";
      counts.textContent = block.done + " done · " + block.to_do + " to do" +
        (block.late ? " · " + block.late + " late" : "");
      item.append(swatch, title, who, counts);
      list.appendChild(item);
    });
    clock.textContent = "updated " + new Date().toLocaleTimeString();
  }

  // No first frame in the page: the stream sends every block as soon as it opens
  // ("blocks"), then only the blocks that changed ("changes": blocks, gone ids, new order).
  const known = new Map();
  let order = [];
  function redraw() { draw({ blocks: order.map(function (id) { return known.get(id); }).filter(Boolean) }); }
  const source = new EventSource("/ops/map/events");
  source.addEventListener("open", function () { state.textContent = "live"; state.className = "live-state on"; });
  source.addEventListener("error", function () { state.textContent = "reconnecting…"; state.className = "live-state"; });
  source.addEventListener("blocks", function (event) {
    const data = JSON.parse(event.data);
    known.clear();
    data.blocks.forEach(function (b) { known.set(b.id, b); });
    order = data.blocks.map(function (b) { return b.id; });
    redraw();
  });
  source.addEventListener("changes", function (event) {
    const data = JSON.parse(event.data);
    data.blocks.forEach(function (b) { known.set(b.id, b); });
    data.gone.forEach(function (id) { known.delete(id); });
    if (data.order) order = data.order;
    redraw();
  });
})();
