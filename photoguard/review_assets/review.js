"use strict";
// The photoguard review page. Everything shown comes from the JSON in #data and is put into the
// page as text (textContent, attributes), never as markup: file names are hostile input.
(function () {
  const data = JSON.parse(document.getElementById("data").textContent);
  const SVG = "http://www.w3.org/2000/svg";
  const MIN_DRAG = 6; // screen pixels: a smaller drag is a click, not a rectangle
  let unsaved = false;

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function svgEl(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    return node;
  }
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

  // per photo: the parent's corrections, in image pixels
  const photos = data.photos.map((p, index) => ({
    ...p, index,
    add: p.added.map((b) => b.slice()),
    keep: p.kept.map((b) => b.slice()),
  }));

  function markDirty() {
    unsaved = true;
    document.getElementById("save").classList.add("dirty");
    setStatus("Corrections not saved yet.");
  }
  function setStatus(text) { document.getElementById("status").textContent = text; }

  function drawRegions(photo, svg) {
    svg.replaceChildren();
    const scale = data.maskScale;
    const labelSize = Math.max(photo.w, photo.h) / 22;
    const label = (x, y, text) => {
      const t = svgEl("text", { x, y, class: "label", "font-size": labelSize });
      t.textContent = text;
      svg.append(t);
    };
    photo.faces.forEach((face, i) => {
      const [x, y, w, h] = face.box;
      const region = svgEl("ellipse", {
        cx: x + w / 2, cy: y + h / 2, rx: (w * scale) / 2, ry: (h * scale) / 2,
        class: "region face" + (face.low ? " low" : ""), tabindex: 0, role: "button",
        "data-kind": "face", "data-index": i,
      });
      const title = svgEl("title");
      title.textContent = (face.low ? "Maybe a face (low score). " : "Hidden face. ") + "Click to keep it visible.";
      region.append(title);
      svg.append(region);
      if (face.low) label(x + w / 2 - labelSize / 4, y + h / 2 + labelSize / 3, "?");
    });
    // a rectangle the parent drew (added) or a face they chose to keep visible (kept)
    const correction = (kind, tip, text) => (box, i) => {
      const [x, y, w, h] = box;
      const region = svgEl("rect", { x, y, width: w, height: h, class: `region ${kind}`, tabindex: 0, role: "button",
                                     "data-kind": kind, "data-index": i });
      const title = svgEl("title");
      title.textContent = tip;
      region.append(title);
      svg.append(region);
      label(x + 4, y + labelSize, text);
    };
    photo.keep.forEach(correction("kept", "Stays visible. Click to hide it again.", "visible"));
    photo.add.forEach(correction("added", "Will be hidden. Click to remove this box.", "hide ×"));
  }

  function toggle(photo, svg, kind, index) {
    if (kind === "face") {
      photo.keep.push(photo.faces[index].box.slice());
      photo.faces.splice(index, 1);
    } else if (kind === "kept") {
      const [box] = photo.keep.splice(index, 1);
      photo.faces.push({ box, score: 0, low: false });
    } else if (kind === "added") {
      photo.add.splice(index, 1);
    }
    drawRegions(photo, svg);
    markDirty();
  }

  function pointInImage(svg, photo, event) {
    const r = svg.getBoundingClientRect();
    const x = ((event.clientX - r.left) / r.width) * photo.w;
    const y = ((event.clientY - r.top) / r.height) * photo.h;
    return [Math.min(Math.max(x, 0), photo.w), Math.min(Math.max(y, 0), photo.h)];
  }

  function enableDrawing(photo, card, svg) {
    let start = null, rect = null, startScreen = null;
    svg.addEventListener("pointerdown", (event) => {
      if (event.target.closest(".region")) return; // a click on a region, handled below
      if (event.button !== 0) return;
      if (event.pointerType === "touch" && !card.classList.contains("drawing")) return; // let touch scroll
      event.preventDefault();
      svg.setPointerCapture(event.pointerId);
      start = pointInImage(svg, photo, event);
      startScreen = [event.clientX, event.clientY];
      rect = svgEl("rect", { x: start[0], y: start[1], width: 0, height: 0, class: "region drawing" });
      svg.append(rect);
    });
    svg.addEventListener("pointermove", (event) => {
      if (!start) return;
      const [x, y] = pointInImage(svg, photo, event);
      rect.setAttribute("x", Math.min(x, start[0]));
      rect.setAttribute("y", Math.min(y, start[1]));
      rect.setAttribute("width", Math.abs(x - start[0]));
      rect.setAttribute("height", Math.abs(y - start[1]));
    });
    const finish = (event, keep) => {
      if (!start) return;
      const [x, y] = pointInImage(svg, photo, event);
      const moved = Math.max(Math.abs(event.clientX - startScreen[0]), Math.abs(event.clientY - startScreen[1]));
      const box = [Math.round(Math.min(x, start[0])), Math.round(Math.min(y, start[1])),
                   Math.round(Math.abs(x - start[0])), Math.round(Math.abs(y - start[1]))];
      start = null;
      rect.remove();
      if (keep && moved >= MIN_DRAG && box[2] > 0 && box[3] > 0) {
        photo.add.push(box);
        drawRegions(photo, svg);
        markDirty();
      }
    };
    svg.addEventListener("pointerup", (event) => finish(event, true));
    svg.addEventListener("pointercancel", (event) => finish(event, false));
    svg.addEventListener("click", (event) => {
      const region = event.target.closest(".region");
      if (region && region.dataset.kind) toggle(photo, svg, region.dataset.kind, Number(region.dataset.index));
    });
    svg.addEventListener("keydown", (event) => {
      const region = event.target.closest(".region");
      if (region && (event.key === "Enter" || event.key === " ")) {
        event.preventDefault();
        toggle(photo, svg, region.dataset.kind, Number(region.dataset.index));
      }
    });
  }

  function card(photo) {
    const article = el("article", { class: "photo" + (photo.warnings.length ? " warn" : ""), "data-hash": photo.hash,
                                    "data-name": photo.name });
    article.append(el("h2", {}, photo.name));
    if (photo.path) article.append(el("p", { class: "path" }, photo.path));
    for (const warning of photo.warnings) article.append(el("span", { class: "badge" }, "⚠ " + warning));

    const views = el("div", { class: "views" });
    const stage = el("figure", { class: "stage" });
    const img = el("img", { alt: "Cleaned copy of " + photo.name, width: photo.tw, height: photo.th,
                            loading: "lazy", decoding: "async", draggable: "false" });
    img.src = photo.thumb;
    const svg = svgEl("svg", { viewBox: `0 0 ${photo.w} ${photo.h}`, preserveAspectRatio: "none" });
    stage.append(img, svg);
    const clock = (t) => `${Math.floor(t / 60)}:${String(Math.floor(t % 60)).padStart(2, "0")}`;
    const caption = el("figcaption", {}, (data.cleaned ? "Cleaned copy" : "What the copy will look like") +
      (photo.times ? ": frames at " + photo.times.map(clock).join(", ") : ""));
    const left = el("div", { class: "view" });
    left.append(stage, caption);
    views.append(left);

    const original = el("figure", { class: "original", hidden: "" });
    views.append(original);
    article.append(views);

    if (photo.risks.length) {
      const list = el("ul", { class: "risks" });
      for (const risk of photo.risks) list.append(el("li", {}, risk));
      article.append(list);
    }

    const tools = el("div", { class: "tools" });
    const showOriginal = el("button", { type: "button", class: "show-original" }, "Show original");
    if (!photo.original) {
      showOriginal.disabled = true;
      showOriginal.title = "The original is not linked from this page (run photoguard with --show-paths to link it).";
    }
    showOriginal.addEventListener("click", () => {
      const hidden = original.hasAttribute("hidden");
      if (hidden && !original.firstChild) {
        const o = el("img", { alt: "Original of " + photo.name, width: photo.w, height: photo.h, decoding: "async" });
        const note = el("figcaption", {}, "Original (not changed)");
        o.addEventListener("error", () => { note.textContent = "Your browser cannot show the original (HEIC or TIFF?)."; });
        o.src = photo.original;
        original.append(o, note);
      }
      original.toggleAttribute("hidden", !hidden);
      showOriginal.textContent = hidden ? "Hide original" : "Show original";
    });
    const enlarge = el("button", { type: "button", class: "enlarge" }, "Larger");
    enlarge.addEventListener("click", () => {
      const large = article.classList.toggle("large");
      if (large && photo.large && img.getAttribute("src") !== photo.large) img.src = photo.large;
      enlarge.textContent = large ? "Smaller" : "Larger";
      if (large) article.scrollIntoView({ block: "nearest" });
    });
    const draw = el("button", { type: "button", class: "draw", "aria-pressed": "false",
                                title: "On a touch screen: turn this on, then drag over the missed face" },
                    "Mark a missed face");
    draw.addEventListener("click", () => {
      const on = article.classList.toggle("drawing");
      draw.setAttribute("aria-pressed", String(on));
    });
    tools.append(showOriginal, enlarge, draw);
    article.append(tools);

    drawRegions(photo, svg);
    if (photo.times) {
      // a video's frames: corrections apply to photos only
      draw.disabled = true;
      showOriginal.disabled = true;
      draw.title = showOriginal.title = "Not for videos: play the original and the copy to compare.";
    } else {
      enableDrawing(photo, article, svg);
    }
    return article;
  }

  function corrections() {
    const out = { photoguard: "regions", version: 1, photos: {} };
    for (const [hash, entry] of Object.entries(data.others || {})) out.photos[hash] = entry;
    for (const photo of photos) {
      if (photo.add.length || photo.keep.length) {
        out.photos[photo.hash] = { name: photo.name, add: photo.add, keep: photo.keep };
      }
    }
    return out;
  }

  function save() {
    const doc = corrections();
    const text = JSON.stringify(doc, null, 1) + "\n";
    const blob = new Blob([text], { type: "application/json" });
    const link = el("a", { download: "photoguard-regions.json" });
    link.href = URL.createObjectURL(blob);
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    unsaved = false;
    document.getElementById("save").classList.remove("dirty");
    const status = document.getElementById("status");
    status.replaceChildren(
      document.createTextNode(`Saved photoguard-regions.json (${plural(Object.keys(doc.photos).length, "photo")} with corrections) to your downloads. Then run: `),
      el("code", {}, "photoguard clean YOUR-PHOTOS --regions photoguard-regions.json --overwrite"));
  }

  const main = document.getElementById("photos");
  const fragment = document.createDocumentFragment();
  for (const photo of photos) fragment.append(card(photo));
  main.append(fragment);

  const warned = photos.filter((p) => p.warnings.length).length;
  const hidden = photos.reduce((n, p) => n + p.faces.length, 0);
  let summary = `${plural(photos.length, "photo")}, ${plural(hidden, "face")} hidden. ` +
    (warned ? `${warned} need${warned === 1 ? "s" : ""} a look (first below, orange border).` : "Nothing flagged.");
  if (data.notShown) summary += ` ${plural(data.notShown, "file")} could not be shown (see the command's messages).`;
  document.getElementById("summary").textContent = summary;
  document.getElementById("save").addEventListener("click", save);
  window.addEventListener("beforeunload", (event) => { if (unsaved) { event.preventDefault(); event.returnValue = ""; } });
  document.documentElement.dataset.ready = "true";
})();
