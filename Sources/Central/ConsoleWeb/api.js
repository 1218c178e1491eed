// The one fetch wrapper, the signed-in session and the role rules the page mirrors (the
// server enforces them: Sources/Central/Console/OperatorRole.swift, ConsolePermission).

import { t } from "./i18n.js";

export const session = { name: "", role: "viewer", csrf: "", idleSeconds: 900 };

const RANK = { viewer: 0, operator: 1, admin: 2 };

/** Whether the signed-in role covers `needed`. */
export const can = (needed) => (RANK[session.role] ?? -1) >= RANK[needed];

export class ApiError extends Error {
  constructor(status, code, message, field, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || null;
    this.retryAfter = retryAfter || null;
    /** Set when the sign-in form took over: nothing more to show. */
    this.handled = false;
  }
}

const SIGNED_OUT_CODES = new Set(["console_session_expired", "admin_unauthorized"]);
let onSignedOut = () => {};

/** Called with the error when a call finds the session gone (401). */
export function whenSignedOut(handler) {
  onSignedOut = handler;
}

/**
 * api(method, path, body) → parsed JSON (null for 204). `path` is under /v1/admin unless it
 * starts with /v1/. Throws ApiError with the server's code and message.
 */
export async function api(method, path, body) {
  const url = path.startsWith("/v1/") ? path : `/v1/admin${path}`;
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin", cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (method !== "GET" && method !== "HEAD" && session.csrf) headers["X-CSRF-Token"] = session.csrf;
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError(0, "network_error", t("error.network"));
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const detail = data && data.error ? data.error : {};
    const retry = Number(response.headers.get("Retry-After")) || null;
    const error = new ApiError(
      response.status, detail.code || `http_${response.status}`,
      detail.message || t("error.http", { status: response.status }), detail.field, retry);
    if (response.status === 401 && SIGNED_OUT_CODES.has(error.code) && !url.startsWith("/v1/console/")) {
      error.handled = true;
      onSignedOut(error);
    }
    throw error;
  }
  if (data === null && text) throw new ApiError(response.status, "bad_response", t("error.badResponse"));
  return data;
}

/** Query string from an object, skipping empty values: qs({a: 1, b: ""}) → "?a=1". */
export function qs(params) {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") search.set(k, String(v));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** `/licenses/${enc(id)}`: ids from the API never break a path. */
export const enc = encodeURIComponent;
