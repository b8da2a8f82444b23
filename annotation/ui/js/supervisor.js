// Supervisor view: threat image projection rate and per-reviewer hit/miss statistics.
import { api } from "./api.js";
import { toast } from "./panels.js";

const $ = (id) => document.getElementById(id);

export async function loadSupervisor() {
  try {
    const t = await api.tip();
    $("tip-rate").value = String(t.settings.rate);
    $("tip-settings").textContent = t.settings.updated_by
      ? `set by ${t.settings.updated_by} at ${new Date(t.settings.updated_at).toLocaleString()}`
      : "projection is off";
    $("tip-stats").tBodies[0].replaceChildren(...t.reviewers.map((r) => {
      const tr = document.createElement("tr");
      for (const v of [r.reviewer, r.trials, r.hits, r.misses, r.pending, r.void,
        r.hit_rate == null ? "-" : `${Math.round(r.hit_rate * 100)} %`]) {
        const td = document.createElement("td");
        td.textContent = String(v);
        tr.append(td);
      }
      return tr;
    }));
  } catch (e) {
    toast(e.message, true);
  }
}

export function bindSupervisor() {
  $("tip-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await api.setTip(Number($("tip-rate").value));
      toast("TIP rate saved.");
      loadSupervisor();
    } catch (err) {
      toast(err.message, true);
    }
  });
}
