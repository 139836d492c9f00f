// The sync loop of docs/sync-protocol.md, as the reference client (sync/client/client.py) does it:
// sign in with a device id made once, pull pages each applied with its cursor in one transaction,
// record items into a durable outbox with the next seq, push exactly once.
import {ApiError, NetworkError, call} from "./api.js";
import {SYNCED, meta, req, setMeta, tx} from "./db.js";

export class AuthRequired extends Error {}
export class DigestMismatch extends Error {}

const ANSWERED = new Set(["accepted", "duplicate", "rejected"]);  // the server decided
export const limits = {batchSize: 100, pullLimit: 500, maxPages: 100, maxAttempts: 6, backoffBase: 1, backoffCap: 60};

// --- device and sign-in ------------------------------------------------------------------------
export function deviceId() {
  // Made once per installation and kept: tokens, cursors and seqs are bound to it.
  return tx(["meta"], "readwrite", async (t) => {
    const store = t.objectStore("meta");
    let id = await req(store.get("device_id"));
    if (!id) {
      id = crypto.randomUUID();
      store.put(id, "device_id");
    }
    return id;
  });
}

export async function signIn(username, password) {
  const {data} = await call("POST", "/auth/login", {json: {username, password, device_id: await deviceId()}});
  await keepTokens(data);
  return data.user;
}

export async function signOut() {
  const token = await meta("refresh_token");
  if (token) {
    try { await call("POST", "/auth/logout", {json: {refresh_token: token}}); } catch { /* offline: drop them anyway */ }
  }
  // The outbox, the pulled data and the device id stay: nothing recorded is lost by a sign-out.
  await setMeta({access_token: null, refresh_token: null});
}

async function keepTokens(answer) {
  // Refresh tokens rotate: the new one is stored before anything else can fail.
  const values = {access_token: answer.access_token, refresh_token: answer.refresh_token};
  if (answer.user) values.user = answer.user;
  await setMeta(values);
}

async function refresh() {
  const token = await meta("refresh_token");
  if (!token) throw new AuthRequired("not signed in");
  try {
    const {data} = await call("POST", "/auth/refresh", {json: {refresh_token: token, device_id: await deviceId()}});
    await keepTokens(data);
  } catch (error) {
    if (error instanceof ApiError && [400, 401, 403].includes(error.status)) {
      await setMeta({access_token: null, refresh_token: null});
      throw new AuthRequired(error.code);
    }
    throw error;  // a lost answer: retried with the same token, never guessed (3.2)
  }
}

/** call(token); on 401 token_expired refresh once and make the identical call again. */
async function authorized(fn) {
  const token = await meta("access_token");
  if (!token) throw new AuthRequired("not signed in");
  try {
    return await fn(token);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
    if (error.code !== "token_expired") {
      await setMeta({access_token: null, refresh_token: null});
      throw new AuthRequired(error.code);
    }
  }
  await refresh();
  return fn(await meta("access_token"));
}

const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/** Retry network failures, 5xx and 429 with exponential backoff and equal jitter (6.6). */
async function withRetries(fn) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const wait = backoff(error, attempt);
      if (wait === null) throw error;
      await sleep(wait);
    }
  }
}

function backoff(error, attempt) {
  const retryable = error instanceof NetworkError || (error instanceof ApiError && error.retryable);
  const asked = error instanceof ApiError ? error.retryAfter : null;
  if (!retryable || attempt >= limits.maxAttempts - 1 || (asked || 0) > limits.backoffCap) return null;
  if (error instanceof NetworkError && !navigator.onLine) return null;  // offline: the `online` event brings us back
  const ceiling = Math.min(limits.backoffCap, limits.backoffBase * 2 ** attempt);
  return Math.max(ceiling / 2 + Math.random() * ceiling / 2, asked || 0);
}

// --- pull --------------------------------------------------------------------------------------
export async function pull() {
  if (await matches(await pullPages())) return;
  await setMeta({cursor: null});  // a digest mismatch costs one snapshot, never a loop
  if (!(await matches(await pullPages()))) throw new DigestMismatch("the task set differs even after a snapshot");
}

async function pullPages() {
  const device = await deviceId();
  for (let i = 0; i < limits.maxPages; i++) {
    const cursor = await meta("cursor");
    const {data: page} = await withRetries(() => authorized((token) => call("GET", "/sync/pull", {
      token, query: {device_id: device, cursor, limit: limits.pullLimit}})));
    await applyPage(page);
    if (!page.has_more) return page.digest || null;
  }
  return null;
}

/** One page and its cursor in one transaction: a crash resumes from the previous cursor (4.4). */
function applyPage(page) {
  return tx([...SYNCED, "meta"], "readwrite", async (t) => {
    if (page.reset) for (const name of SYNCED) t.objectStore(name).clear();  // never the outbox
    for (const name of SYNCED) {
      const changes = page[name] || {};
      const store = t.objectStore(name);
      for (const row of changes.upserted || []) store.put(row);
      for (const row of changes.removed || []) store.delete(row.id);
      if (name === "tasks") {
        const removed = Object.fromEntries((changes.removed || []).map((row) => [row.id, row.reason]));
        if (Object.keys(removed).length) {
          const known = (await req(t.objectStore("meta").get("removed_tasks"))) || {};
          t.objectStore("meta").put({...known, ...removed}, "removed_tasks");
        }
      }
    }
    const openIds = page.followups && page.followups.open_ids;
    if (openIds) {  // one escalated to a supervisor, say, is no longer ours
      const keep = new Set(openIds);
      for (const id of await req(t.objectStore("followups").getAllKeys())) {
        if (!keep.has(id)) t.objectStore("followups").delete(id);
      }
    }
    t.objectStore("meta").put(page.cursor, "cursor");
    // Which day is "today" follows the server's clock: a phone's own may be wrong by hours.
    if (page.server_time) t.objectStore("meta").put(Date.parse(page.server_time) - Date.now(), "server_offset_ms");
  });
}

async function matches(digest) {
  if (!digest) return true;
  const mine = await localDigest();
  return mine.count === digest.count && mine.hash === digest.hash;
}

/** The digest of 4.7 over the tasks held: "<id>:<version>\n" sorted by id, SHA-256, 32 hex. */
export async function localDigest() {
  const tasks = await tx(["tasks"], "readonly", (t) => req(t.objectStore("tasks").getAll()));
  tasks.sort((a, b) => a.id - b.id);
  const lines = tasks.map((task) => `${task.id}:${task.version}\n`).join("");
  return {count: tasks.length, hash: (await sha256Hex(new TextEncoder().encode(lines))).slice(0, 32)};
}

export async function sha256Hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

// --- recording, offline ------------------------------------------------------------------------
/** Store one item with a fresh UUID and the device's next seq, in one transaction. */
export function record(type, taskId, fields = {}) {
  return tx(["meta", "outbox"], "readwrite", async (t) => {
    const metaStore = t.objectStore("meta");
    const seq = (await req(metaStore.get("next_seq"))) || 0;
    metaStore.put(seq + 1, "next_seq");  // never reused, not even if this item is later deleted
    const item = {id: crypto.randomUUID(), seq, type, task_id: taskId, captured_at: new Date().toISOString()};
    for (const [key, value] of Object.entries(fields)) if (value !== null && value !== undefined) item[key] = value;
    t.objectStore("outbox").add({id: item.id, seq, task_id: taskId, status: "pending", item, result: null});
    return item;
  });
}

/** Keep a signature or photo for upload by content hash; returns the hash the item carries. */
export async function keepMedia(blob, taskId) {
  const sha256 = await sha256Hex(new Uint8Array(await blob.arrayBuffer()));
  await tx(["media"], "readwrite", (t) => {
    t.objectStore("media").put({sha256, task_id: taskId, type: blob.type, blob, status: "pending"});
  });
  return sha256;
}

export function pendingCount() {
  return tx(["outbox"], "readonly", (t) => req(t.objectStore("outbox").index("status_seq")
    .count(IDBKeyRange.bound(["pending", 0], ["pending", Infinity]))));
}

function pending(limit) {
  return tx(["outbox"], "readonly", (t) => req(t.objectStore("outbox").index("status_seq")
    .getAll(IDBKeyRange.bound(["pending", 0], ["pending", Infinity]), limit)));
}

// --- push --------------------------------------------------------------------------------------
/** Send the outbox in batches until nothing is pending; an item is acked only once answered. */
export async function push() {
  const summary = {accepted: 0, duplicate: 0, rejected: 0, requeued: 0};
  const requeued = new Set();
  const device = await deviceId();
  let size = limits.batchSize;
  for (;;) {
    const batch = await pending(size);
    if (!batch.length) break;
    const items = batch.map((row) => row.item);  // byte for byte what was stored
    let answer;
    try {
      // device_time is read afresh for every attempt: the server measures the clock's offset from it.
      answer = await withRetries(() => authorized((token) => call("POST", "/sync/push", {
        token, json: {device_id: device, device_time: new Date().toISOString(), items}})));
    } catch (error) {
      if (error instanceof ApiError && error.status === 413 && batch.length > 1) {
        size = Math.floor(batch.length / 2);  // nothing was written: the same items, in smaller batches
        continue;
      }
      throw error;
    }
    const answered = await ack(batch, answer.data.results || [], summary);
    const missing = (answer.data.missing_seqs || []).filter((seq) => !requeued.has(seq));
    missing.forEach((seq) => requeued.add(seq));  // once per push: a confused server cannot loop us
    summary.requeued += await requeue(missing);
    if (!answered) break;
  }
  return summary;
}

function ack(batch, results, summary) {
  const sent = new Set(batch.map((row) => row.id));
  const answered = results.filter((r) => sent.has(r.id) && ANSWERED.has(r.status));
  return tx(["outbox"], "readwrite", async (t) => {
    const store = t.objectStore("outbox");
    for (const result of answered) {
      const row = await req(store.get(result.id));
      store.put({...row, status: "acked", result, acked_at: new Date().toISOString()});
      summary[result.status] += 1;
    }
    return answered.length;
  });
}

function requeue(seqs) {
  if (!seqs.length) return Promise.resolve(0);
  return tx(["outbox"], "readwrite", async (t) => {
    let count = 0;
    for (const seq of seqs) {
      const row = await req(t.objectStore("outbox").index("seq").get(seq));
      if (row && row.status === "acked") {
        t.objectStore("outbox").put({...row, status: "pending"});
        count += 1;
      }
    }
    return count;
  });
}

// --- media -------------------------------------------------------------------------------------
/** Upload signatures and photos by hash; they resume from where they stopped after going offline. */
export async function uploadMedia() {
  const waiting = (await tx(["media"], "readonly", (t) => req(t.objectStore("media").getAll())))
    .filter((m) => m.status === "pending");
  for (const media of waiting) {
    let status;
    try {
      await withRetries(() => authorized((token) => call("PUT", `/media/${media.sha256}`, {
        token, query: {task_id: media.task_id}, body: media.blob, contentType: media.type})));
      status = "stored";
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      // 404: the route is not served yet, or the task has not reached the server: try again later.
      if (error.status === 404) continue;
      if ([413, 415, 422].includes(error.status)) status = "refused";
      else throw error;
    }
    await tx(["media"], "readwrite", (t) => { t.objectStore("media").put({...media, status}); });
  }
}

// --- the whole round ---------------------------------------------------------------------------
/** Push, upload, pull; one at a time across every window of the app. */
export function syncAll() {
  return navigator.locks.request("carerounds-sync", async () => {
    const summary = await push();
    await uploadMedia();
    await pull();
    await setMeta({last_sync_at: new Date().toISOString()});
    return summary;
  });
}
