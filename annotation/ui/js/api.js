// Review API client: bearer token from the session, JSON in/out, errors with the server's reason.

const KEY = "kouan.token";

export class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === "string" ? detail : JSON.stringify(detail));
    this.status = status;
  }
}

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (t) => sessionStorage.setItem(KEY, t),
  clear: () => sessionStorage.removeItem(KEY),
};

async function call(method, path, body, as = "json") {
  const headers = { Authorization: `Bearer ${token.get() || ""}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, { method, headers,
    body: body !== undefined ? JSON.stringify(body) : undefined });
  if (!r.ok) {
    let detail = r.statusText;
    try {
      const j = await r.json();
      detail = Array.isArray(j.detail)
        ? j.detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ")
        : j.detail ?? detail;
    } catch (_) { /* not JSON */ }
    throw new ApiError(r.status, detail);
  }
  if (r.status === 204) return null;
  if (as === "blob") return r;
  return r.json();
}

export const api = {
  meta: () => call("GET", "/v1/review/meta"),
  queue: (params) => call("GET", `/v1/review/items?${new URLSearchParams(params)}`),
  item: (id) => call("GET", `/v1/review/items/${encodeURIComponent(id)}`),
  claim: (id) => call("POST", `/v1/review/items/${encodeURIComponent(id)}/claim`, {}),
  claimNext: (filter) => call("POST", "/v1/review/claim-next", { filter }),
  release: (id) => call("POST", `/v1/review/items/${encodeURIComponent(id)}/release`),
  decide: (id, decision, reason_code, notes) => call("POST",
    `/v1/review/items/${encodeURIComponent(id)}/decision`, { decision, reason_code, notes }),
  saveLabels: (id, image, base_revision, boxes) => call("PUT",
    `/v1/review/items/${encodeURIComponent(id)}/labels`, { image, base_revision, boxes }),
  tip: () => call("GET", "/v1/review/supervisor/tip"),
  setTip: (rate) => call("PUT", "/v1/review/supervisor/tip", { rate }),

  async bitmap(path) {
    const r = await call("GET", path, undefined, "blob");
    return createImageBitmap(await r.blob());
  },
  async blobUrl(path) {
    const r = await call("GET", path, undefined, "blob");
    return URL.createObjectURL(await r.blob());
  },
  async raw16(id, image) {
    const r = await call("GET", `/v1/review/items/${encodeURIComponent(id)}/images/${image}/raw16`,
      undefined, "blob");
    const w = Number(r.headers.get("X-Width"));
    const h = Number(r.headers.get("X-Height"));
    return { data: new Uint16Array(await r.arrayBuffer()), width: w, height: h };
  },
  viewPath: (id, image, view) =>
    `/v1/review/items/${encodeURIComponent(id)}/images/${image}/views/${view}.png`,
};
