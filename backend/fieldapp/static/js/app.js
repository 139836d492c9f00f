// The app: boot, the sync bar, sign-in, today's list with urgent follow-ups first, the records.
import {all, meta} from "./db.js";
import {codeText, dateTimeOf, dayOf, flagText, lang, serviceText, setLang, t, windowText} from "./i18n.js";
import {h, mount} from "./dom.js";
import {AuthRequired, DigestMismatch, pendingCount, signIn, signOut, syncAll} from "./sync.js";
import {taskScreen} from "./visit.js";

const bar = document.getElementById("bar");
const main = document.getElementById("main");
const state = {syncing: false, message: null};

export function notify(message) {
  state.message = message;
  drawBar();
}

export async function drawBar() {
  const [waiting, last] = await Promise.all([pendingCount(), meta("last_sync_at")]);
  mount(bar,
    h("div", {class: "bar-row"},
      h("a", {href: "#/", class: "brand"}, t("app_name")),
      h("span", {class: navigator.onLine ? "net on" : "net off"}, navigator.onLine ? t("online") : t("offline")),
      h("button", {type: "button", class: "lang", onclick: () => { setLang(lang() === "en" ? "zh" : "en"); route(); }},
        t("language"))),
    h("div", {class: "bar-row"},
      h("a", {href: "#/outbox", id: "waiting", class: waiting ? "waiting some" : "waiting", "data-count": String(waiting)},
        t("waiting", {n: waiting})),
      h("span", {id: "last-sync", class: "muted", "data-at": last || null}, last ? t("last_sync", {time: dateTimeOf(last)}) : t("never_synced")),
      h("button", {type: "button", id: "sync", disabled: state.syncing, onclick: () => sync()},
        state.syncing ? t("syncing") : t("sync_now"))),
    state.message ? h("p", {class: "message", role: "status"}, state.message) : null);
}

/** One round of push, upload and pull; what fails is said, and everything recorded stays. */
export async function sync() {
  if (state.syncing || !(await meta("access_token"))) return;
  state.syncing = true;
  await drawBar();
  try {
    const s = await syncAll();
    state.message = s.accepted + s.duplicate + s.rejected ? t("sync_done", s) : null;
  } catch (error) {
    if (error instanceof AuthRequired) {
      state.message = t("session_ended");
    } else if (error instanceof DigestMismatch) {
      state.message = t("digest_mismatch");
    } else {
      state.message = t("sync_failed", {msg: error.message});
    }
  } finally {
    state.syncing = false;
  }
  // A visit's screen is not redrawn under the worker's fingers: only the bar changes.
  if (location.hash.startsWith("#/task/") && await meta("access_token")) await drawBar();
  else await route();
}

/** Record-then-push: the item is already safe in the outbox; pushing is a bonus when online. */
export function afterRecord() {
  notify(t("saved"));
  if (navigator.onLine) sync();
}

async function loginScreen() {
  const error = h("p", {class: "error", role: "alert"});
  const form = h("form", {class: "card", id: "login", onsubmit: async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    error.textContent = t("signing_in");
    try {
      await signIn(data.get("username"), data.get("password"));
      state.message = null;
      location.hash = "#/";
      await sync();
    } catch (e) {
      error.textContent = t("sign_in_failed", {msg: (e.problem && (e.problem.detail || e.problem.title)) || e.message});
    }
  }},
  h("h1", {}, t("app_name")),
  h("label", {}, t("username"), h("input", {name: "username", autocomplete: "username", required: true})),
  h("label", {}, t("password"), h("input", {name: "password", type: "password", autocomplete: "current-password", required: true})),
  h("button", {type: "submit", class: "primary"}, t("sign_in")),
  error,
  h("p", {class: "muted"}, t("install_hint")));
  return [form];
}

function followupCard(f, elders) {
  const elder = elders.get(f.elder_id);
  const urgent = f.kind === "welfare_check";
  const contacts = (f.details && f.details.emergency_contacts) || (elder && elder.emergency_contacts) || [];
  return h("section", {class: urgent ? "followup urgent" : "followup", "data-kind": f.kind},
    urgent ? h("h2", {}, "⚠ " + t("welfare_first")) : null,
    h("p", {class: "summary"}, f.summary),
    elder ? h("p", {}, elder.name, " · ", elder.address || "") : null,
    f.due_at ? h("p", {class: "muted"}, t("due", {time: dateTimeOf(f.due_at)})) : null,
    contacts.length ? h("p", {}, t("contacts"), ": ", contacts.map((c) =>
      h("a", {href: `tel:${c.phone}`, class: "tel"}, `${c.name} ${c.phone}`))) : null,
    f.task_id ? h("a", {href: `#/task/${f.task_id}`, class: "button"}, t("task")) : null);
}

export function localState(rows) {
  // What this phone recorded per task, so the list shows a visit done offline as done.
  const byTask = new Map();
  for (const row of rows) {
    const s = byTask.get(row.task_id) || new Set();
    s.add(row.item.type);
    byTask.set(row.task_id, s);
  }
  return byTask;
}

function taskCard(task, elder, recorded) {
  const types = recorded.get(task.id) || new Set();
  const local = task.status === "completed" ? null : types.has("check_out") || types.has("patrol_report") ? t("local_done")
    : types.has("check_in") ? t("local_checked_in") : null;
  const what = task.kind === "patrol" ? `${t("kind_patrol")} · ${t("mode_" + (task.patrol_mode || "door"))}`
    : serviceText(task.service_type);
  return h("a", {href: `#/task/${task.id}`, class: `task status-${task.status}`, "data-task-id": String(task.id)},
    h("div", {class: "task-head"},
      h("strong", {}, elder ? elder.name : `#${task.elder_id}`),
      h("span", {class: "time"}, windowText(task.window_start_at, task.window_end_at))),
    h("div", {}, what, " · ", local || t("status_" + task.status)),
    elder ? h("div", {class: "muted"}, elder.address || "") : null,
    elder && elder.care_notes ? h("div", {class: "notes"}, elder.care_notes) : null);
}

async function homeScreen() {
  const [tasks, elderRows, followups, outbox] = await Promise.all(
    [all("tasks"), all("elders"), all("followups"), all("outbox")]);
  const elders = new Map(elderRows.map((e) => [e.id, e]));
  const recorded = localState(outbox);
  // Urgent welfare checks before anything else (4.4): an elder living alone did not answer.
  const rank = (f) => (f.kind === "welfare_check" ? 0 : 1) * 10 + ({urgent: 0, high: 1}[f.priority] ?? 2);
  followups.sort((a, b) => rank(a) - rank(b) || (a.due_at || "").localeCompare(b.due_at || ""));
  tasks.sort((a, b) => a.window_start_at.localeCompare(b.window_start_at) || a.id - b.id);
  const today = dayOf(null, (await meta("server_offset_ms")) || 0);
  // Today's: every task whose window covers today, a week-long patrol's as much as a visit's.
  const covers = (task) => dayOf(task.window_start_at) <= today
    && today <= dayOf(new Date(Date.parse(task.window_end_at) - 1).toISOString());
  const done = (task) => task.status === "completed" || ["check_out", "patrol_report"].some(
    (type) => (recorded.get(task.id) || new Set()).has(type));
  const todays = tasks.filter(covers).sort((a, b) => done(a) - done(b));  // stable: open work first, in order
  const others = tasks.filter((task) => !covers(task));
  return [
    followups.length ? h("section", {id: "followups"}, h("h2", {class: "section"}, t("followups")),
      followups.map((f) => followupCard(f, elders))) : null,
    h("h2", {class: "section"}, t("today")),
    h("div", {id: "today"}, todays.length ? todays.map((task) => taskCard(task, elders.get(task.elder_id), recorded))
      : h("p", {class: "muted"}, t("no_tasks"))),
    others.length ? h("details", {id: "other-days", ontoggle: (event) => {
      // Two weeks of tasks are drawn only when asked for: today's list comes first, offline too.
      const details = event.currentTarget;
      if (!details.open || details.dataset.drawn) return;
      details.dataset.drawn = "1";
      let day = null;
      for (const task of others) {
        const taskDay = dayOf(task.window_start_at);
        if (taskDay !== day) details.append(h("div", {class: "day"}, (day = taskDay)));
        details.append(taskCard(task, elders.get(task.elder_id), recorded));
      }
    }}, h("summary", {}, `${t("other_days")} (${others.length})`)) : null,
    h("button", {type: "button", id: "sign-out", class: "link", onclick: signOutAsked}, t("sign_out")),
  ];
}

async function signOutAsked() {
  const waiting = await pendingCount();
  if (waiting && !confirm(t("logout_unsent", {n: waiting}))) return;
  await signOut();
  state.message = waiting ? t("signed_out_kept", {n: waiting}) : null;
  location.hash = "#/login";
  await route();
}

async function outboxScreen() {
  const [rows, tasks, elderRows] = await Promise.all([all("outbox"), all("tasks"), all("elders")]);
  const taskById = new Map(tasks.map((task) => [task.id, task]));
  const elders = new Map(elderRows.map((e) => [e.id, e]));
  rows.sort((a, b) => b.seq - a.seq);
  return [
    h("h2", {class: "section"}, t("outbox_title")),
    rows.length ? h("ul", {id: "outbox", class: "outbox"}, rows.map((row) => {
      const task = taskById.get(row.task_id);
      const elder = task && elders.get(task.elder_id);
      const status = row.status === "pending" ? "pending" : row.result.status;
      return h("li", {class: `item ${status}`, "data-id": row.id, "data-status": status},
        h("div", {}, h("strong", {}, t("it_" + row.item.type)), " · ", elder ? elder.name : `#${row.task_id}`,
          " · ", dateTimeOf(row.item.captured_at)),
        h("div", {class: "status"}, t("st_" + status),
          row.result && row.result.status === "rejected"
            ? [": ", codeText(row.result.code), row.result.message ? ` (${row.result.message})` : ""] : null),
        row.result && row.result.flags && row.result.flags.length
          ? h("div", {class: "flags"}, row.result.flags.map((f) =>
            h("span", {class: f.endsWith("verified") ? "flag good" : "flag", "data-flag": f}, flagText(f)))) : null);
    })) : h("p", {class: "muted"}, t("nothing_recorded")),
  ];
}

export async function route() {
  document.documentElement.lang = lang() === "en" ? "en" : "zh-CN";
  document.title = t("app_name");
  const signedIn = Boolean(await meta("access_token"));
  const hash = location.hash || "#/";
  let screen;
  if (!signedIn) screen = await loginScreen();
  else if (hash.startsWith("#/task/")) screen = await taskScreen(Number(hash.slice(7)));
  else if (hash === "#/outbox") screen = await outboxScreen();
  else screen = await homeScreen();
  await drawBar();
  mount(main, screen);
}

async function start() {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("sw.js", {scope: "./"}).catch(() => { /* the app still runs online */ });
  }
  window.addEventListener("hashchange", route);
  window.addEventListener("online", () => { drawBar(); sync(); });
  window.addEventListener("offline", drawBar);
  await route();
  if (navigator.onLine) await sync();  // pull on start; push whatever a closed page left unsent
}

start();
