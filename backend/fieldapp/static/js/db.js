// IndexedDB: what was pulled (tasks, elders, follow-ups, notifications), the outbox of recorded
// items, media waiting for upload, and settings (meta). Every write is one transaction.
const NAME = "carerounds-field";
export const SYNCED = ["tasks", "elders", "followups", "notifications"];

let opening = null;

export function open() {
  opening ||= new Promise((resolve, reject) => {
    const request = indexedDB.open(NAME, 1);
    request.onupgradeneeded = () => {
      const db = request.result;
      for (const name of SYNCED) db.createObjectStore(name, {keyPath: "id"});
      const outbox = db.createObjectStore("outbox", {keyPath: "id"});
      outbox.createIndex("seq", "seq", {unique: true});
      outbox.createIndex("status_seq", ["status", "seq"]);
      outbox.createIndex("task_id", "task_id");
      db.createObjectStore("media", {keyPath: "sha256"});
      db.createObjectStore("meta");
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opening;
}

/** Run fn(transaction) in one transaction; resolves with fn's value once the transaction has
 * committed durably, so a crash afterwards cannot undo it. */
export async function tx(stores, mode, fn) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const t = db.transaction(stores, mode, {durability: "strict"});
    let value;
    t.oncomplete = () => resolve(value);
    t.onabort = () => reject(t.error || new Error("transaction aborted"));
    Promise.resolve().then(() => fn(t)).then((v) => { value = v; }, (error) => {
      try { t.abort(); } catch { /* already finished */ }
      reject(error);
    });
  });
}

export function req(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export const all = (store) => tx([store], "readonly", (t) => req(t.objectStore(store).getAll()));
export const get = (store, key) => tx([store], "readonly", (t) => req(t.objectStore(store).get(key)));
export const meta = (key) => get("meta", key);
export const setMeta = (values) => tx(["meta"], "readwrite", (t) => {
  for (const [key, value] of Object.entries(values)) t.objectStore("meta").put(value, key);
});
