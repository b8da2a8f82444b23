// Review workstation controller: sign-in, queue, item panel, decisions, keyboard triage.
import { api, ApiError, token } from "./api.js";
import { Viewer } from "./viewer.js";
import { renderCompare, renderFacts, renderHistory, renderQueue, toast } from "./panels.js";
import { loadSupervisor, bindSupervisor } from "./supervisor.js";

const $ = (id) => document.getElementById(id);
const VIEW_NAMES = { pseudo_colour: "Colour", organic_only: "Organic", inorganic_only: "Inorganic",
  metal_only: "Metal", high_gray: "High", edges: "Edges", gray: "Grey", original: "Image",
  mip_axial: "MIP axial", mip_front: "MIP front", mip_side: "MIP side", raw: "Raw 16-bit" };

const state = {
  meta: null, item: null, imageIndex: 0, view: null, labels: {}, saving: Promise.resolve(),
  decision: null, timer: null, renewTimer: null, loadSeq: 0,
};
const viewer = new Viewer($("canvas"));
window.kouanViewer = viewer; // for debugging in the browser console and for UI tests

// -- sign-in ---------------------------------------------------------------------------------
async function signIn() {
  try {
    state.meta = await api.meta();
  } catch (e) {
    token.clear();
    $("login").hidden = false;
    $("workspace").hidden = true;
    $("login-error").textContent = e instanceof ApiError && e.status === 401
      ? "Unknown or revoked token." : e.message;
    return;
  }
  const m = state.meta;
  $("whoami").textContent = `${m.me} (${m.role})`;
  $("login").hidden = true;
  $("workspace").hidden = false;
  for (const id of ["logout", "tab-queue", "show-help"]) $(id).hidden = false;
  $("tab-super").hidden = !(m.role === "supervisor" || m.role === "admin");
  $("box-label").replaceChildren(...m.label_classes.map((c) => new Option(c, c)));
  await loadQueue();
  clearInterval(state.timer);
  state.timer = setInterval(loadQueue, 10000);
  clearInterval(state.renewTimer);
  state.renewTimer = setInterval(renewLease, 60000);
}

// Keep the lease while the reviewer works the item (the default lease is 5 minutes).
async function renewLease() {
  const d = state.item;
  if (!d?.held_by_me) return;
  try {
    const fresh = await api.claim(d.item.id);
    if (state.item?.item.id === d.item.id) state.item.item = fresh.item;
  } catch (e) {
    toast(`Lost the lease: ${e.message}`, true);
    openItem(d.item.id);
  }
}

$("login-form").addEventListener("submit", (e) => {
  e.preventDefault();
  token.set($("token").value.trim());
  signIn();
});
$("logout").addEventListener("click", () => {
  token.clear();
  location.reload();
});

// -- queue -----------------------------------------------------------------------------------
function filterParams() {
  const p = { limit: 100 };
  if ($("f-status").value) p.status = $("f-status").value;
  if ($("f-severity").value) p.min_severity = $("f-severity").value;
  if ($("f-modality").value) p.modality = $("f-modality").value;
  if ($("f-lane").value.trim()) p.lane_id = $("f-lane").value.trim();
  return p;
}

async function loadQueue() {
  try {
    const page = await api.queue(filterParams());
    $("queue-total").textContent = `${page.items.length} of ${page.total}`;
    renderQueue($("queue").tBodies[0], page.items, state.item?.item.id, openItem);
  } catch (e) {
    toast(e.message, true);
  }
}

for (const id of ["f-status", "f-severity", "f-modality"]) $(id).addEventListener("change", loadQueue);
$("f-lane").addEventListener("change", loadQueue);
$("refresh").addEventListener("click", loadQueue);
$("claim-next").addEventListener("click", claimNext);

async function claimNext() {
  const p = filterParams();
  const filter = {};
  if (p.min_severity) filter.min_severity = p.min_severity;
  if (p.modality) filter.modality = p.modality;
  if (p.lane_id) filter.lane_id = p.lane_id;
  try {
    const d = await api.claimNext(filter);
    if (!d) {
      toast("Nothing left to claim with these filters.");
      return;
    }
    await showItem(d);
  } catch (e) {
    toast(e.message, true);
  }
  loadQueue();
}

// -- item ------------------------------------------------------------------------------------
async function openItem(id) {
  try {
    await showItem(await api.item(id));
  } catch (e) {
    toast(e.message, true);
  }
}

async function showItem(d, keepBanner = false) {
  const sameItem = state.item?.item.id === d.item.id;
  state.item = d;
  state.labels = {};
  for (const [key, lab] of Object.entries(d.labels)) {
    state.labels[key] = { revision: lab.revision, boxes: lab.boxes };
  }
  if (!sameItem) state.imageIndex = 0;
  if (!keepBanner) $("banner").hidden = true;
  $("empty").hidden = true;
  const s = d.summary;
  $("item-title").textContent = `${s.severity.toUpperCase()} · ${s.type.replaceAll("_", " ")}`;
  renderFacts($("item-facts"), d);
  $("item-expl").textContent = d.finding.explanation;
  renderHistory($("history"), d.history);
  const open = d.item.status === "queued" || d.item.status === "claimed";
  $("claim").disabled = !open || d.held_by_me;
  $("claim").textContent = d.held_by_me ? "Claimed" : "Claim";
  $("release").disabled = !d.held_by_me;
  for (const b of document.querySelectorAll(".decide button")) b.disabled = !d.held_by_me;
  viewer.editable = d.held_by_me;
  $("draw").disabled = !d.held_by_me;
  hideDecision();
  renderCompare($("compare"), $("declaration"), $("references"), d, state.meta);
  renderImageTabs();
  const img = currentImage();
  const view = sameItem && img?.views.includes(state.view) ? state.view : img?.default_view;
  await showView(view);
  loadQueue();
}

function currentImage() {
  return state.item?.images[state.imageIndex] ?? null;
}

function renderImageTabs() {
  const imgs = state.item.images;
  $("images").replaceChildren(...(imgs.length > 1 ? imgs.map((im, i) => {
    const b = document.createElement("button");
    b.textContent = `image ${i + 1}`;
    b.setAttribute("aria-pressed", String(i === state.imageIndex));
    b.addEventListener("click", () => {
      state.imageIndex = i;
      renderImageTabs();
      showView(currentImage().default_view);
    });
    return b;
  }) : []));
}

function renderViewButtons() {
  const img = currentImage();
  const views = img ? [...img.views, "raw"] : [];
  $("views").replaceChildren(...views.map((v, i) => {
    const b = document.createElement("button");
    b.textContent = VIEW_NAMES[v] || v;
    b.title = `${v} (${v === "raw" ? 0 : i + 1})`;
    b.dataset.view = v;
    b.setAttribute("aria-pressed", String(v === state.view));
    b.addEventListener("click", () => showView(v));
    return b;
  }));
}

async function showView(view) {
  const img = currentImage();
  if (!img) {
    $("empty").hidden = false;
    $("empty").textContent = "This finding has no image to show.";
    viewer.setBoxes([]);
    renderBoxList();
    return;
  }
  const seq = ++state.loadSeq;
  state.view = view;
  renderViewButtons();
  try {
    if (view === "raw") {
      const raw = await api.raw16(state.item.item.id, img.key);
      if (seq !== state.loadSeq) return;
      viewer.setRaw16(raw.data, raw.width, raw.height);
    } else {
      const bmp = await api.bitmap(api.viewPath(state.item.item.id, img.key, view));
      if (seq !== state.loadSeq) return;
      await viewer.setBitmap(bmp);
    }
  } catch (e) {
    toast(e.message, true);
    return;
  }
  const lab = state.labels[img.key] || { boxes: [] };
  viewer.setBoxes(lab.boxes, img.projected_boxes?.[view] || []);
  renderBoxList();
  $("stage").dataset.view = view; // lets tests wait for the image to be on screen
  $("stage").dataset.item = state.item.item.id;
}

// -- boxes -----------------------------------------------------------------------------------
function renderBoxList() {
  const img = currentImage();
  const lab = img ? state.labels[img.key] : null;
  $("label-rev").textContent = lab ? `revision ${lab.revision}` : "";
  $("box-list").replaceChildren(...viewer.boxes.map((b, i) => {
    const li = document.createElement("li");
    li.className = i === viewer.selected ? "selected" : "";
    li.textContent = `${b.label} ${b.score != null ? Math.round(b.score * 100) + "% " : ""}`;
    const o = document.createElement("span");
    o.className = "origin";
    o.textContent = `${b.origin} · ${b.box.map((v) => Math.round(v)).join(", ")}`;
    li.append(o);
    li.addEventListener("click", () => viewer.select(i));
    return li;
  }));
}

viewer.addEventListener("select", (e) => {
  const sel = e.detail;
  $("box-label").disabled = !sel || !viewer.editable;
  $("box-delete").disabled = !sel || !viewer.editable;
  if (sel) {
    if (![...$("box-label").options].some((o) => o.value === sel.label)) {
      $("box-label").append(new Option(sel.label, sel.label));
    }
    $("box-label").value = sel.label;
  }
  renderBoxList();
});
viewer.addEventListener("boxes", (e) => saveBoxes(e.detail));
viewer.addEventListener("drawmode", (e) => $("draw").setAttribute("aria-pressed", String(e.detail)));
viewer.addEventListener("window", (e) => {
  const w = e.detail;
  for (const [id, v, max] of [["wl-level", w.level, w.max], ["wl-width", w.width, w.max * 2]]) {
    $(id).max = String(max);
    $(id).value = String(Math.round(v));
  }
  $("gamma").value = String(w.gamma);
  $("wl-readout").textContent = `L ${Math.round(w.level)} W ${Math.round(w.width)} γ ${w.gamma.toFixed(2)}`;
  $("invert").setAttribute("aria-pressed", String(w.invert));
});
$("box-label").addEventListener("change", () => viewer.relabelSelected($("box-label").value));
$("box-delete").addEventListener("click", () => viewer.deleteSelected());

function saveBoxes(boxes) {
  const item = state.item;
  const img = currentImage();
  if (!item || !img) return;
  state.saving = state.saving.then(async () => {
    const lab = state.labels[img.key] || { revision: 0 };
    try {
      const saved = await api.saveLabels(item.item.id, img.key, lab.revision, boxes);
      state.labels[img.key] = { revision: saved.revision, boxes: saved.boxes };
      $("label-rev").textContent = `revision ${saved.revision} saved`;
    } catch (e) {
      toast(`Boxes not saved: ${e.message}`, true);
      if (e instanceof ApiError && e.status === 409) await openItem(item.item.id);
    }
  });
  renderBoxList();
}

// -- toolbar ---------------------------------------------------------------------------------
$("wl-level").addEventListener("input", (e) => viewer.setWindow({ level: Number(e.target.value) }));
$("wl-width").addEventListener("input", (e) => viewer.setWindow({ width: Number(e.target.value) }));
$("gamma").addEventListener("input", (e) => viewer.setWindow({ gamma: Number(e.target.value) }));
$("invert").addEventListener("click", () => viewer.setWindow({ invert: !viewer.window.invert }));
$("wl-reset").addEventListener("click", () => viewer.resetWindow());
$("fit").addEventListener("click", () => viewer.fit());
$("overlays").addEventListener("click", toggleOverlays);
$("draw").addEventListener("click", () => setDraw(!viewer.drawMode));

function toggleOverlays() {
  viewer.overlays = !viewer.overlays;
  $("overlays").setAttribute("aria-pressed", String(viewer.overlays));
  viewer.render();
}

function setDraw(on) {
  if (!viewer.editable) return;
  viewer.drawMode = on;
  viewer.defaultLabel = $("box-label").value || state.meta.label_classes[0];
  $("draw").setAttribute("aria-pressed", String(on));
}

// -- claim / release / decide -----------------------------------------------------------------
$("claim").addEventListener("click", async () => {
  try {
    await showItem(await api.claim(state.item.item.id));
  } catch (e) {
    toast(e.message, true);
  }
});
$("release").addEventListener("click", release);

async function release() {
  if (!state.item?.held_by_me) return;
  try {
    await showItem(await api.release(state.item.item.id));
  } catch (e) {
    toast(e.message, true);
  }
}

for (const b of document.querySelectorAll(".decide button")) {
  b.addEventListener("click", () => askDecision(b.dataset.decision));
}

function askDecision(decision) {
  if (!state.item?.held_by_me) return;
  state.decision = decision;
  const codes = state.item.reason_codes[decision];
  $("reason").replaceChildren(...codes.map((c) => new Option(c.replaceAll("_", " "), c)));
  $("reason-title").textContent = `reason to ${decision}`;
  $("decision-form").hidden = false;
  $("reason").focus();
}

function hideDecision() {
  state.decision = null;
  $("decision-form").hidden = true;
  $("notes").value = "";
}

$("decision-cancel").addEventListener("click", hideDecision);
$("decision-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const item = state.item;
  const decision = state.decision;
  if (!item || !decision) return;
  await state.saving; // boxes first: the decision is taken on the saved labels
  try {
    const out = await api.decide(item.item.id, decision, $("reason").value,
      $("notes").value.trim() || null);
    hideDecision();
    const tip = out.tip;
    if (tip) showTipBanner(tip);
    const status = out.item.item.status;
    if (!out.applied) {
      await showItem(out.item, true);
      return;
    }
    toast(status === "queued" && out.item.awaiting_second_after
      ? "First confirmation recorded: a second reviewer must confirm (two-person rule)."
      : `Item ${status}.`);
    if ($("auto-next").checked) {
      const next = await api.claimNext({});
      if (next) {
        await showItem(next, Boolean(tip));
        return;
      }
      toast("Queue empty.");
    }
    await showItem(out.item, Boolean(tip));
  } catch (err) {
    toast(err.message, true);
    if (err instanceof ApiError && err.status === 409) openItem(item.item.id);
  }
});

function showTipBanner(tip) {
  const b = $("banner");
  b.hidden = false;
  b.className = tip.outcome === "hit" ? "hit" : "miss";
  b.textContent = tip.outcome === "hit"
    ? `Threat image projection: well spotted, the ${tip.label} was a test image. `
      + "The real image is shown now; please finish the review."
    : `Threat image projection: a test ${tip.label} was in that image and was not boxed.`;
}

// -- keyboard --------------------------------------------------------------------------------
document.addEventListener("keydown", (e) => {
  const t = e.target;
  // sliders and checkboxes keep the shortcuts; text fields and drop-downs take the keys
  const typing = (t instanceof HTMLInputElement && !["range", "checkbox"].includes(t.type))
    || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement;
  if (e.key === "Escape") {
    hideDecision();
    $("help").hidden = true;
    setDraw(false);
    return;
  }
  if (!$("decision-form").hidden && e.key === "Enter" && !e.shiftKey) { // Shift+Enter: new line
    e.preventDefault();
    $("decision-form").requestSubmit();
    return;
  }
  if (typing || e.ctrlKey || e.metaKey || e.altKey || $("workspace").hidden) return;
  const img = currentImage();
  const views = img ? img.views : [];
  const actions = {
    n: claimNext, j: claimNext, c: () => askDecision("confirm"), d: () => askDecision("dismiss"),
    e: () => askDecision("escalate"), o: toggleOverlays, b: () => setDraw(!viewer.drawMode),
    f: () => viewer.fit(), i: () => viewer.setWindow({ invert: !viewer.window.invert }),
    w: () => viewer.resetWindow(), l: release, "+": () => viewer.zoomAt(1.25),
    "=": () => viewer.zoomAt(1.25), "-": () => viewer.zoomAt(0.8),
    "[": () => viewer.setWindow({ gamma: viewer.window.gamma - 0.1 }),
    "]": () => viewer.setWindow({ gamma: viewer.window.gamma + 0.1 }),
    "?": () => { $("help").hidden = !$("help").hidden; },
    Delete: () => viewer.deleteSelected(), Backspace: () => viewer.deleteSelected(),
    Tab: () => viewer.select(viewer.boxes.length ? (viewer.selected + 1) % viewer.boxes.length : -1),
    0: () => img && showView("raw"),
  };
  let fn = actions[e.key] ?? actions[e.key.toLowerCase()];
  const n = Number(e.key);
  if (!fn && n >= 1 && n <= views.length) fn = () => showView(views[n - 1]);
  if (fn) {
    e.preventDefault();
    fn();
  }
});

// -- tabs --------------------------------------------------------------------------------------
$("show-help").addEventListener("click", () => { $("help").hidden = !$("help").hidden; });
$("tab-queue").addEventListener("click", () => {
  $("supervisor").hidden = true;
  $("workspace").hidden = false;
  viewer.fit();
});
$("tab-super").addEventListener("click", () => {
  $("workspace").hidden = true;
  $("supervisor").hidden = false;
  loadSupervisor();
});
bindSupervisor();

if (token.get()) signIn();
