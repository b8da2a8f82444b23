// Rendering helpers for the queue table and the item side panels (DOM only, no API calls
// except the reference images). Text goes in through textContent, never innerHTML.
import { api } from "./api.js";

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text != null) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

export function age(seconds) {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

export function renderQueue(tbody, items, currentId, onOpen) {
  tbody.replaceChildren(...items.map((it) => {
    const tr = document.createElement("tr");
    tr.dataset.id = it.id;
    if (it.id === currentId) tr.className = "current";
    const sev = el("td");
    sev.append(el("span", it.severity, `sev ${it.severity}`));
    const what = el("td");
    what.append(el("div", it.labels.join(", ") || it.type.replaceAll("_", " ")));
    what.append(el("div", `${it.type.replaceAll("_", " ")} · ${it.modality || "-"}`, "type"));
    if (it.awaiting_second_after) {
      what.append(el("div", `needs 2nd confirmation (1st: ${it.awaiting_second_after})`, "second"));
    }
    const status = it.claimed_by ? `${it.status} · ${it.claimed_by}` : it.status;
    tr.append(sev, what, el("td", it.lane_id || "-"),
      el("td", age(it.sla.age_s), it.sla.overdue && ["queued", "claimed"].includes(it.status)
        ? "overdue" : ""), el("td", it.decision ? `${status} (${it.decided_by})` : status));
    tr.addEventListener("click", () => onOpen(it.id));
    return tr;
  }));
}

export function renderFacts(dl, d) {
  const s = d.summary;
  const rows = [
    ["status", s.claimed_by ? `${s.status} by ${s.claimed_by}` : s.status],
    ["lease until", d.item.lease_expires_at ? new Date(d.item.lease_expires_at).toLocaleTimeString() : null],
    ["second reviewer", d.awaiting_second_after ? `needed (1st: ${d.awaiting_second_after})` : null],
    ["decision", d.decision ? `${d.decision} by ${d.item.decided_by} (${d.item.reason_code})` : null],
    ["port / lane", `${s.port_id} / ${s.lane_id || "-"}`],
    ["modality", s.modality || "-"],
    ["age / target", `${age(s.sla.age_s)} / ${age(s.sla.sla_s)}`],
    ["case", s.case_id],
    ["model", d.finding.model ? `${d.finding.model.name} v${d.finding.model.version}` : "-"],
    ...d.texts.map((t) => [t.label, `${t.text} (${Math.round(t.score * 100)}%)`]),
    ...d.attachments.map((a) => ["attachment", `${a.sha256.slice(0, 12)}… ${a.note}`]),
  ];
  dl.replaceChildren(...rows.filter(([, v]) => v != null).flatMap(([k, v]) => [el("dt", k), el("dd", v)]));
}

export function renderHistory(ol, history) {
  ol.replaceChildren(...history.map((h) => {
    const extra = h.detail?.decision ? ` ${h.detail.decision}` : "";
    return el("li", `${new Date(h.at).toLocaleTimeString()} ${h.actor}: ${h.action}${extra}`);
  }));
}

export function renderCompare(box, declBox, refBox, d, meta) {
  const decls = d.declarations;
  box.hidden = decls.length === 0;
  declBox.replaceChildren();
  refBox.replaceChildren();
  if (!decls.length) return;
  for (const decl of decls) {
    declBox.append(el("h3", "Declaration"));
    const dl = el("dl");
    const data = decl.data;
    const rows = [["plate", data.plate], ["containers", (data.container_numbers || []).join(", ")],
      ["declared empty", data.declared_empty ? "yes" : null],
      ...(data.goods || []).map((g) => [`HS ${g.hs_code}`,
        `${g.description}${g.gross_kg ? ` · ${g.gross_kg} kg` : ""}`]),
      ["declared", data.declared_description]];
    dl.append(...rows.filter(([, v]) => v).flatMap(([k, v]) => [el("dt", k), el("dd", v)]));
    declBox.append(dl);
    for (const ch of decl.hs_chapters) {
      if (!meta.reference_chapters[ch]) {
        refBox.append(el("p", `No reference for HS chapter ${ch}.`, "hint"));
        continue;
      }
      const fig = el("figure");
      const img = el("img");
      img.alt = `reference load, HS chapter ${ch}`;
      fig.append(img, el("figcaption",
        `Reference: HS ${ch} ${meta.reference_chapters[ch]} (generated scan, not a real truck)`));
      refBox.append(fig);
      api.blobUrl(`/v1/review/references/${ch}.png`).then((u) => { img.src = u; })
        .catch((e) => fig.append(el("p", e.message, "error")));
    }
  }
}

let toastTimer = null;
export function toast(text, isError = false) {
  const t = document.getElementById("toast");
  t.textContent = text;
  t.className = `show${isError ? " error" : ""}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.className = ""; }, isError ? 6000 : 3000);
}
