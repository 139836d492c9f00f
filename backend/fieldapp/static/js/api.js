// HTTP to /api/v1 on this origin: every non-2xx answer is an ApiError, no answer a NetworkError.
import {lang} from "./i18n.js";

export class NetworkError extends Error {}

export class ApiError extends Error {
  constructor(status, problem, headers) {
    const code = (problem && problem.code) || `http_${status}`;
    super(`${status} ${code}: ${(problem && (problem.detail || problem.title)) || ""}`);
    this.status = status;
    this.problem = problem || {};
    this.code = code;
    const after = parseFloat(headers.get("Retry-After"));
    this.retryAfter = Number.isFinite(after) ? after : null;
  }

  get retryable() { return this.status >= 500 || this.status === 429; }
}

export async function call(method, path, {token, query, json, body, contentType} = {}) {
  let url = "/api/v1" + path;
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== null && value !== undefined) params.set(key, value);
    url += "?" + params;
  }
  const headers = {"Accept": "application/json", "Accept-Language": lang()};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (contentType) {
    headers["Content-Type"] = contentType;
  }
  let response, text;
  try {
    response = await fetch(url, {method, headers, body, cache: "no-store", credentials: "omit"});
    text = await response.text();  // a body cut off is a lost answer: the server may have acted
  } catch (error) {
    throw new NetworkError(error.message || String(error));
  }
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { /* a proxy's HTML page: the status still tells */ }
  if (response.status >= 400) throw new ApiError(response.status, data, response.headers);
  return {status: response.status, data: data || {}};
}
