// Scan viewer: a canvas with zoom/pan, window/level + gamma (true 16-bit on raw data), material
// views rendered by the server, detection overlays and box editing.
//
// Coordinates: image pixels, x right, y down; boxes are [x1, y1, x2, y2]. The screen shows
// image point p at  p * scale + offset  (CSS pixels of the canvas).

const HANDLE = 6; // px (screen) half-size of a resize handle
const MIN_BOX = 2; // px (image) smallest box edge
const COLOURS = { model: "#ff9f1c", reviewer: "#2ec4b6", import: "#a78bfa", selected: "#ffe066",
  projected: "#ff4dd2" };

export class Viewer extends EventTarget {
  constructor(canvas) {
    super();
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.work = document.createElement("canvas"); // the image after window/level, image size
    this.wctx = this.work.getContext("2d", { willReadFrequently: true });
    this.source = null; // {kind: "rgb", pixels: Uint8ClampedArray RGBA} | {kind: "raw", data}
    this.width = 0;
    this.height = 0;
    this.scale = 1;
    this.offset = { x: 0, y: 0 };
    this.window = { level: 127.5, width: 255, gamma: 1, invert: false, max: 255 };
    this.boxes = [];
    this.projected = [];
    this.selected = -1;
    this.overlays = true;
    this.editable = false;
    this.drawMode = false;
    this.defaultLabel = "knife";
    this.drag = null;
    this.pending = false;
    this._bind();
    new ResizeObserver(() => this._resize()).observe(canvas);
  }

  // -- sources ---------------------------------------------------------------------------
  async setBitmap(bitmap) {
    const c = document.createElement("canvas");
    c.width = bitmap.width;
    c.height = bitmap.height;
    const cx = c.getContext("2d", { willReadFrequently: true });
    cx.drawImage(bitmap, 0, 0);
    const sameSize = bitmap.width === this.width && bitmap.height === this.height;
    const keepWindow = this.source?.kind === "rgb"; // switching between 8-bit views
    this.source = { kind: "rgb", pixels: cx.getImageData(0, 0, c.width, c.height).data };
    this._setSize(bitmap.width, bitmap.height, sameSize);
    if (keepWindow) this.setWindow({});
    else this.setWindow({ max: 255, level: 127.5, width: 255 });
  }

  setRaw16(data, width, height) {
    const sameSize = width === this.width && height === this.height;
    this.source = { kind: "raw", data };
    this._setSize(width, height, sameSize);
    // start from the data's 0.5-99.5 % range: raw scans rarely use the whole 16 bits
    const sample = [];
    const step = Math.max(1, Math.floor(data.length / 20000));
    for (let i = 0; i < data.length; i += step) sample.push(data[i]);
    sample.sort((a, b) => a - b);
    const lo = sample[Math.floor(sample.length * 0.005)] ?? 0;
    const hi = sample[Math.floor(sample.length * 0.995)] ?? 65535;
    this.setWindow({ max: 65535, level: (lo + hi) / 2, width: Math.max(16, hi - lo) });
  }

  _setSize(w, h, keepView) {
    this.width = w;
    this.height = h;
    this.work.width = w;
    this.work.height = h;
    if (!keepView) this.fit();
  }

  // -- window / level / gamma --------------------------------------------------------------
  setWindow(patch) {
    Object.assign(this.window, patch);
    const wdw = this.window;
    wdw.width = Math.max(1, Math.min(wdw.max * 2, wdw.width));
    wdw.level = Math.max(0, Math.min(wdw.max, wdw.level));
    wdw.gamma = Math.max(0.1, Math.min(5, wdw.gamma));
    this._applyWindow();
    this.dispatchEvent(new CustomEvent("window", { detail: { ...wdw } }));
  }

  resetWindow() {
    if (this.source?.kind === "raw") this.setRaw16(this.source.data, this.width, this.height);
    else this.setWindow({ level: 127.5, width: 255, gamma: 1, invert: false });
  }

  _lut(size) {
    const { level, width, gamma, invert } = this.window;
    const lut = new Uint8ClampedArray(size);
    const lo = level - width / 2;
    for (let v = 0; v < size; v++) {
      let t = (v - lo) / width;
      t = t <= 0 ? 0 : t >= 1 ? 1 : Math.pow(t, 1 / gamma);
      lut[v] = Math.round(255 * (invert ? 1 - t : t));
    }
    return lut;
  }

  _applyWindow() {
    if (!this.source) return;
    const out = this.wctx.createImageData(this.width, this.height);
    const px = out.data;
    if (this.source.kind === "raw") {
      const lut = this._lut(65536);
      const d = this.source.data;
      for (let i = 0, j = 0; i < d.length; i++, j += 4) {
        const g = lut[d[i]];
        px[j] = g; px[j + 1] = g; px[j + 2] = g; px[j + 3] = 255;
      }
    } else {
      const lut = this._lut(256);
      const s = this.source.pixels;
      for (let j = 0; j < s.length; j += 4) {
        px[j] = lut[s[j]]; px[j + 1] = lut[s[j + 1]]; px[j + 2] = lut[s[j + 2]]; px[j + 3] = 255;
      }
    }
    this.wctx.putImageData(out, 0, 0);
    this.render();
  }

  // -- view transform ----------------------------------------------------------------------
  fit() {
    const r = this.canvas.getBoundingClientRect();
    if (!this.width || !r.width) return;
    this.scale = Math.min(r.width / this.width, r.height / this.height) * 0.96;
    this.offset = { x: (r.width - this.width * this.scale) / 2,
      y: (r.height - this.height * this.scale) / 2 };
    this.render();
  }

  zoomAt(factor, sx, sy) {
    const r = this.canvas.getBoundingClientRect();
    sx = sx ?? r.width / 2;
    sy = sy ?? r.height / 2;
    const next = Math.max(0.05, Math.min(40, this.scale * factor));
    const ix = (sx - this.offset.x) / this.scale;
    const iy = (sy - this.offset.y) / this.scale;
    this.scale = next;
    this.offset = { x: sx - ix * next, y: sy - iy * next };
    this.render();
  }

  toImage(sx, sy) {
    return { x: (sx - this.offset.x) / this.scale, y: (sy - this.offset.y) / this.scale };
  }

  toScreen(x, y) {
    return { x: x * this.scale + this.offset.x, y: y * this.scale + this.offset.y };
  }

  _resize() {
    const r = this.canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.max(1, Math.round(r.width * dpr));
    this.canvas.height = Math.max(1, Math.round(r.height * dpr));
    if (this.width && !this._fitted) {
      this._fitted = true;
      this.fit();
    }
    this.render();
  }

  // -- drawing -----------------------------------------------------------------------------
  render() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this._draw();
    });
  }

  _draw() {
    const { ctx, canvas } = this;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#1b1f24";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (!this.width) return;
    ctx.setTransform(dpr * this.scale, 0, 0, dpr * this.scale, dpr * this.offset.x,
      dpr * this.offset.y);
    ctx.imageSmoothingEnabled = this.scale < 2;
    ctx.drawImage(this.work, 0, 0);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (!this.overlays) return;
    for (const p of this.projected) this._drawBox(p, COLOURS.projected, true, false);
    this.boxes.forEach((b, i) => {
      const sel = i === this.selected;
      this._drawBox(b, sel ? COLOURS.selected : COLOURS[b.origin] || COLOURS.reviewer,
        b.origin === "model", sel);
    });
    if (this.drag?.kind === "draw" && this.drag.box) {
      this._drawBox({ box: this.drag.box, label: this.defaultLabel }, COLOURS.selected, false,
        false);
    }
  }

  _drawBox(b, colour, dashed, handles) {
    const { ctx } = this;
    const p1 = this.toScreen(b.box[0], b.box[1]);
    const p2 = this.toScreen(b.box[2], b.box[3]);
    ctx.save();
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2;
    ctx.setLineDash(dashed ? [6, 4] : []);
    ctx.strokeRect(p1.x, p1.y, p2.x - p1.x, p2.y - p1.y);
    const text = b.score != null ? `${b.label} ${(b.score * 100).toFixed(0)}%` : b.label;
    ctx.font = "12px sans-serif";
    const tw = ctx.measureText(text).width + 8;
    ctx.fillStyle = colour;
    ctx.fillRect(p1.x, p1.y - 16, tw, 16);
    ctx.fillStyle = "#111";
    ctx.fillText(text, p1.x + 4, p1.y - 4);
    if (handles) {
      ctx.setLineDash([]);
      for (const [hx, hy] of this._handles(b)) {
        ctx.fillStyle = colour;
        ctx.fillRect(hx - HANDLE / 2, hy - HANDLE / 2, HANDLE, HANDLE);
      }
    }
    ctx.restore();
  }

  _handles(b) {
    const p1 = this.toScreen(b.box[0], b.box[1]);
    const p2 = this.toScreen(b.box[2], b.box[3]);
    return [[p1.x, p1.y], [p2.x, p1.y], [p1.x, p2.y], [p2.x, p2.y]];
  }

  // -- boxes -------------------------------------------------------------------------------
  setBoxes(boxes, projected = []) {
    this.boxes = boxes.map((b) => ({ ...b, box: [...b.box] }));
    this.projected = projected;
    this.selected = -1;
    this.render();
    this._selectionChanged();
  }

  select(i) {
    this.selected = i >= 0 && i < this.boxes.length ? i : -1;
    this.render();
    this._selectionChanged();
  }

  deleteSelected() {
    if (!this.editable || this.selected < 0) return;
    this.boxes.splice(this.selected, 1);
    this.selected = -1;
    this._changed();
  }

  relabelSelected(label) {
    if (!this.editable || this.selected < 0 || !label) return;
    const b = this.boxes[this.selected];
    b.label = label;
    b.origin = "reviewer";
    b.score = null;
    this._changed();
  }

  _changed() {
    this.render();
    this._selectionChanged();
    this.dispatchEvent(new CustomEvent("boxes", { detail: this.boxes.map((b) => ({
      label: b.label, box: b.box.map((v) => Math.round(v * 10) / 10),
      score: b.score ?? null, origin: b.origin })) }));
  }

  _selectionChanged() {
    this.dispatchEvent(new CustomEvent("select", { detail: this.selected >= 0
      ? { index: this.selected, ...this.boxes[this.selected] } : null }));
  }

  _hit(sx, sy) {
    if (this.selected >= 0) {
      const hs = this._handles(this.boxes[this.selected]);
      for (let k = 0; k < 4; k++) {
        if (Math.abs(sx - hs[k][0]) <= HANDLE && Math.abs(sy - hs[k][1]) <= HANDLE) {
          return { kind: "resize", index: this.selected, corner: k };
        }
      }
    }
    const p = this.toImage(sx, sy);
    for (let i = this.boxes.length - 1; i >= 0; i--) {
      const b = this.boxes[i].box;
      if (p.x >= b[0] && p.x <= b[2] && p.y >= b[1] && p.y <= b[3]) {
        return { kind: "move", index: i };
      }
    }
    return null;
  }

  _clampBox(b) {
    let [x1, y1, x2, y2] = b;
    [x1, x2] = [Math.min(x1, x2), Math.max(x1, x2)];
    [y1, y2] = [Math.min(y1, y2), Math.max(y1, y2)];
    x1 = Math.max(0, Math.min(this.width - MIN_BOX, x1));
    y1 = Math.max(0, Math.min(this.height - MIN_BOX, y1));
    x2 = Math.max(x1 + MIN_BOX, Math.min(this.width, x2));
    y2 = Math.max(y1 + MIN_BOX, Math.min(this.height, y2));
    return [x1, y1, x2, y2];
  }

  // -- mouse -------------------------------------------------------------------------------
  _bind() {
    const c = this.canvas;
    c.addEventListener("contextmenu", (e) => e.preventDefault());
    c.addEventListener("wheel", (e) => {
      e.preventDefault();
      const r = c.getBoundingClientRect();
      this.zoomAt(Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top);
    }, { passive: false });
    c.addEventListener("pointerdown", (e) => this._down(e));
    c.addEventListener("pointermove", (e) => this._move(e));
    c.addEventListener("pointerup", (e) => this._up(e));
    c.addEventListener("pointercancel", (e) => this._up(e));
  }

  _pos(e) {
    const r = this.canvas.getBoundingClientRect();
    return { sx: e.clientX - r.left, sy: e.clientY - r.top };
  }

  _down(e) {
    if (!this.width) return;
    this.canvas.focus(); // keys go to the triage shortcuts again, not to a form field
    this.canvas.setPointerCapture(e.pointerId);
    const { sx, sy } = this._pos(e);
    const start = { sx, sy, offset: { ...this.offset } };
    if (e.button === 2 || e.shiftKey) { // window/level drag
      this.drag = { kind: "window", ...start, window: { ...this.window } };
      return;
    }
    if (this.editable && this.drawMode) {
      const p = this.toImage(sx, sy);
      this.drag = { kind: "draw", ...start, origin: p, box: null };
      return;
    }
    const hit = this.editable && this.overlays ? this._hit(sx, sy) : null;
    if (hit) {
      this.select(hit.index);
      this.drag = { ...hit, ...start, box: [...this.boxes[hit.index].box], moved: false };
      return;
    }
    if (this.selected >= 0) this.select(-1);
    this.drag = { kind: "pan", ...start };
  }

  _move(e) {
    const d = this.drag;
    if (!d) return;
    const { sx, sy } = this._pos(e);
    const dx = sx - d.sx;
    const dy = sy - d.sy;
    if (d.kind === "pan") {
      this.offset = { x: d.offset.x + dx, y: d.offset.y + dy };
      this.render();
    } else if (d.kind === "window") {
      const k = d.window.max / 512; // one screen pixel = 1/512 of the range
      this.setWindow({ width: d.window.width + dx * k, level: d.window.level - dy * k });
    } else if (d.kind === "draw") {
      const p = this.toImage(sx, sy);
      d.box = this._clampBox([d.origin.x, d.origin.y, p.x, p.y]);
      this.render();
    } else if (d.kind === "move" || d.kind === "resize") {
      const ix = dx / this.scale;
      const iy = dy / this.scale;
      const b = [...d.box];
      if (d.kind === "move") {
        const w = b[2] - b[0];
        const h = b[3] - b[1];
        const x1 = Math.max(0, Math.min(this.width - w, b[0] + ix));
        const y1 = Math.max(0, Math.min(this.height - h, b[1] + iy));
        this.boxes[d.index].box = [x1, y1, x1 + w, y1 + h];
      } else {
        const xi = d.corner % 2 === 0 ? 0 : 2;
        const yi = d.corner < 2 ? 1 : 3;
        b[xi] += ix;
        b[yi] += iy;
        this.boxes[d.index].box = this._clampBox(b);
      }
      d.moved = d.moved || Math.abs(dx) + Math.abs(dy) > 1;
      this.render();
    }
  }

  _up() {
    const d = this.drag;
    this.drag = null;
    if (!d) return;
    if (d.kind === "draw" && d.box && (d.box[2] - d.box[0]) * this.scale > 3) {
      this.boxes.push({ label: this.defaultLabel, box: d.box, score: null, origin: "reviewer" });
      this.selected = this.boxes.length - 1;
      this.drawMode = false;
      this.dispatchEvent(new CustomEvent("drawmode", { detail: false }));
      this._changed();
    } else if ((d.kind === "move" || d.kind === "resize") && d.moved) {
      this.boxes[d.index].origin = "reviewer";
      this.boxes[d.index].score = null;
      this._changed();
    } else {
      this.render();
    }
  }
}
