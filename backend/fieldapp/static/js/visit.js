// A task's screen: the elder, the door plate scan, check-in, check-out (services, satisfaction,
// signature, photo), the patrol report, a note. Each action is one item in the outbox.
import {all, get} from "./db.js";
import {codeText, serviceText, t, timeOf, windowText} from "./i18n.js";
import {h, mount, select} from "./dom.js";
import {plateIdOf, scanPlate} from "./scan.js";
import {keepMedia, record} from "./sync.js";
import {afterRecord, localState, route} from "./app.js";
import {signaturePad} from "./signature.js";

const OUTCOMES = ["done", "refused", "not_needed"];
const PATROL_OUTCOMES = ["seen_well", "seen_needs_help", "not_at_home", "no_answer", "in_hospital", "moved", "deceased"];
const RISK_KINDS = ["fall", "choking", "self_harm", "wandering", "other"];
const OBSERVED = ["health", "mental_state", "hygiene", "living_conditions", "needs"];

/** The GPS fix now, with its accuracy; null when there is none within 10 s (the server flags it). */
function locate() {
  if (!navigator.geolocation) return Promise.resolve(null);
  return new Promise((resolve) => navigator.geolocation.getCurrentPosition(
    (p) => resolve({lat: p.coords.latitude, lon: p.coords.longitude, accuracy_m: Math.round(p.coords.accuracy * 10) / 10}),
    () => resolve(null), {enableHighAccuracy: true, timeout: 10000, maximumAge: 60000}));
}

/** The scan panel: a camera view and what was read; `current()` is the payload or null. */
function scanner(elder) {
  let payload = null;
  let controller = null;
  const video = h("video", {class: "camera", hidden: true});
  const said = h("p", {class: "scan-state"}, t("no_scan_flag"));
  const button = h("button", {type: "button", id: "scan", onclick: async () => {
    if (controller) { controller.abort(); return; }
    controller = new AbortController();
    video.hidden = false;
    button.textContent = t("stop_scan");
    said.textContent = t("scanning");
    said.className = "scan-state";
    try {
      const text = await scanPlate(video, controller.signal);
      if (text) {
        payload = text;  // untouched: the server judges it
        const plate = plateIdOf(text);
        const ours = plate && (elder.plate_ids || []).includes(plate);
        said.textContent = t("scanned", {plate: plate || text}) + (ours ? "" : " " + t("plate_other_elder"));
        said.className = ours ? "scan-state ok" : "scan-state warn";
        said.dataset.payload = text;
      } else {
        said.textContent = t("no_scan_flag");
      }
    } catch (error) {
      said.textContent = t("no_camera", {msg: error.message || error.name});
      said.className = "scan-state warn";
    } finally {
      controller = null;
      video.hidden = true;
      button.textContent = t("scan_plate");
    }
  }}, t("scan_plate"));
  return {view: h("div", {class: "scanner"}, button, video, said), current: () => payload};
}

function elderCard(elder, task) {
  const map = elder.lat !== null && elder.lon !== null
    ? `https://uri.amap.com/marker?position=${elder.lon},${elder.lat}&name=${encodeURIComponent(elder.address || "")}`
    : `https://uri.amap.com/search?keyword=${encodeURIComponent(elder.address || "")}`;
  return h("section", {class: "card elder"},
    h("h1", {}, elder.name, h("span", {class: "muted"}, ` ${elder.age ?? ""}`)),
    h("p", {}, windowText(task.window_start_at, task.window_end_at, true), " · ",
      task.kind === "patrol" ? t("kind_patrol") : serviceText(task.service_type)),
    h("p", {}, elder.address || "", " ", h("a", {href: map, target: "_blank", rel: "noopener"}, t("map"))),
    elder.phone ? h("p", {}, h("a", {href: `tel:${elder.phone}`}, `${t("call")} ${elder.phone}`)) : null,
    elder.care_notes ? h("p", {class: "notes"}, t("care_notes"), ": ", elder.care_notes) : null,
    (elder.emergency_contacts || []).length ? h("p", {}, t("contacts"), ": ", elder.emergency_contacts.map((c) =>
      h("a", {href: `tel:${c.phone}`, class: "tel"}, `${c.name} ${c.phone}`))) : null);
}

async function recordWithFix(type, taskId, fields, atDoor) {
  const status = document.getElementById("fix-state");
  let location = null;
  if (atDoor) {
    status.textContent = t("locating");
    location = await locate();
    status.textContent = location ? t("fix", {m: location.accuracy_m}) : t("no_fix");
  }
  await record(type, taskId, {...fields, location});
  afterRecord();
  await route();
}

function checkInForm(task, elder) {
  const scan = scanner(elder);
  return h("section", {class: "card"}, h("h2", {}, t("check_in")), scan.view,
    h("button", {type: "button", id: "check-in", class: "primary", onclick: (e) => {
      e.target.disabled = true;
      recordWithFix("check_in", task.id, {qr: scan.current()}, true);
    }}, t("check_in")));
}

function checkOutForm(task, elder, checkedInAt) {
  const scan = scanner(elder);
  const pad = signaturePad();
  const error = h("p", {class: "error", role: "alert"});
  const photo = h("input", {type: "file", name: "photo", accept: "image/*", capture: "environment"});
  const form = h("form", {id: "check-out", onsubmit: async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const outcome = data.get("outcome");
    const reason = (data.get("reason") || "").trim() || null;
    if (outcome !== "done" && !reason) {
      error.textContent = t("reason_required", {service: serviceText(task.service_type)});
      return;
    }
    form.querySelector("button[type=submit]").disabled = true;
    const signer = data.get("signer");
    let image = null;
    if (!pad.isEmpty()) image = await keepMedia(await pad.blob(), task.id);
    if (photo.files.length) await keepMedia(photo.files[0], task.id);
    const satisfaction = data.get("satisfaction") ? Number(data.get("satisfaction")) : null;
    await recordWithFix("check_out", task.id, {
      qr: scan.current(),
      services: [{service_type: task.service_type, outcome, reason: outcome === "done" ? null : reason}],
      satisfaction,
      signature: {signer, confirmed: signer !== "none", image_sha256: image},
    }, true);
  }},
  h("h2", {}, t("check_out")),
  checkedInAt ? h("p", {class: "muted"}, t("checked_in", {time: timeOf(checkedInAt)})) : null,
  scan.view,
  h("fieldset", {}, h("legend", {}, t("services"), ": ", serviceText(task.service_type)),
    OUTCOMES.map((o) => h("label", {class: "choice"},
      h("input", {type: "radio", name: "outcome", value: o, checked: o === "done"}), t("outcome_" + o))),
    h("label", {}, t("reason"), h("input", {name: "reason", maxlength: "500"}))),
  h("fieldset", {class: "stars"}, h("legend", {}, t("satisfaction")),
    [1, 2, 3, 4, 5].map((n) => h("label", {class: "choice"},
      h("input", {type: "radio", name: "satisfaction", value: String(n)}), "★".repeat(n)))),
  h("label", {}, t("signer"), select("signer",
    ["elder", "family", "none"].map((s) => [s, t("signer_" + s)]), "elder")),
  h("div", {}, t("signature"), " ", h("button", {type: "button", class: "link", onclick: () => pad.clear()}, t("clear"))),
  pad.canvas,
  h("label", {}, t("photo"), photo),
  error,
  h("button", {type: "submit", class: "primary"}, t("check_out")));
  return h("section", {class: "card"}, form);
}

function riskRow() {
  const row = h("div", {class: "risk"},
    select("kind", RISK_KINDS.map((k) => [k, t("rk_" + k)]), "fall"),
    h("input", {type: "date", name: "occurred_on", "aria-label": t("occurred_on")}),
    h("input", {name: "note", maxlength: "500", placeholder: t("note")}),
    h("button", {type: "button", class: "link", onclick: () => row.remove()}, t("remove")));
  return row;
}

function patrolForm(task, elder) {
  const scan = scanner(elder);
  const error = h("p", {class: "error", role: "alert"});
  const events = h("div", {class: "risks"});
  const safety = (name) => h("label", {}, t(name), select(name,
    [["", t("safety_unseen")], ["ok", t("safety_ok")], ["hazard", t("safety_hazard")]], ""));
  const form = h("form", {id: "patrol", onsubmit: async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const outcome = data.get("outcome");
    const mode = data.get("mode");
    const observations = Object.fromEntries(OBSERVED.map((k) => [k, (data.get(k) || "").trim() || null]));
    const seen = outcome === "seen_well" || outcome === "seen_needs_help";
    const gas = data.get("gas"), water = data.get("water"), electricity = data.get("electricity");
    observations.safety = gas && water && electricity ? {gas, water, electricity} : null;
    const observed = OBSERVED.some((k) => observations[k]) || observations.safety;
    if (seen && !observed) {
      error.textContent = t("obs_required");
      return;
    }
    const risks = [...events.querySelectorAll(".risk")].map((row) => ({
      kind: row.querySelector("[name=kind]").value,
      occurred_on: row.querySelector("[name=occurred_on]").value || null,
      note: row.querySelector("[name=note]").value.trim() || null,
    }));
    form.querySelector("button[type=submit]").disabled = true;
    await recordWithFix("patrol_report", task.id, {
      outcome, mode, qr: mode === "door" ? scan.current() : null,
      observations: seen || observed ? observations : null,
      care_risk_events: risks.length ? risks : null,
    }, mode === "door");
  }},
  h("h2", {}, t("patrol_report")),
  h("label", {}, t("mode"), select("mode", [["door", t("mode_door")], ["phone", t("mode_phone")]], task.patrol_mode || "door")),
  scan.view,
  h("label", {}, t("outcome"), select("outcome", PATROL_OUTCOMES.map((o) => [o, t("po_" + o)]), "seen_well")),
  h("fieldset", {}, h("legend", {}, t("observations")),
    OBSERVED.map((k) => h("label", {}, t(k), h("textarea", {name: k, rows: 2, maxlength: "2000"})))),
  h("fieldset", {class: "safety"}, h("legend", {}, t("safety")), safety("gas"), safety("water"), safety("electricity")),
  h("fieldset", {}, h("legend", {}, t("risk_events")), events,
    h("button", {type: "button", class: "link", onclick: () => events.append(riskRow())}, t("add_event"))),
  error,
  h("button", {type: "submit", class: "primary"}, t("submit_report")));
  return h("section", {class: "card"}, form);
}

function noteForm(task) {
  const form = h("form", {id: "note", onsubmit: async (event) => {
    event.preventDefault();
    const text = new FormData(form).get("text").trim();
    if (!text) return;
    form.querySelector("button").disabled = true;
    await record("note", task.id, {text});
    afterRecord();
    await route();
  }},
  h("label", {}, t("note"), h("textarea", {name: "text", rows: 2, maxlength: "2000", required: true})),
  h("button", {type: "submit"}, t("save_note")));
  return h("section", {class: "card"}, form);
}

function finished(task) {
  return h("p", {class: "done"}, task.status === "completed" ? t("status_completed") : t("local_done"));
}

export async function taskScreen(taskId) {
  const task = await get("tasks", taskId);
  const back = h("a", {href: "#/", class: "back"}, "‹ " + t("back"));
  if (!task) {
    const removed = (await get("meta", "removed_tasks")) || {};
    return [back, h("p", {class: "message"}, removed[taskId] ? t("removed_task", {reason: codeText(removed[taskId])}) : "—")];
  }
  const elder = (await get("elders", task.elder_id)) || {id: task.elder_id, name: `#${task.elder_id}`, plate_ids: []};
  const mine = (await all("outbox")).filter((row) => row.task_id === task.id);
  const types = localState(mine).get(task.id) || new Set();
  const checkIn = mine.find((row) => row.item.type === "check_in");
  let step;
  if (task.kind === "patrol") {
    step = types.has("patrol_report") || task.status === "completed" ? finished(task) : patrolForm(task, elder);
  } else if (types.has("check_out") || task.status === "completed") {
    step = finished(task);
  } else if (types.has("check_in") || task.status === "in_progress") {
    step = checkOutForm(task, elder, checkIn && checkIn.item.captured_at);
  } else {
    step = checkInForm(task, elder);
  }
  const view = h("div", {}, back, elderCard(elder, task), h("p", {id: "fix-state", class: "muted"}), step, noteForm(task));
  const holder = h("div");
  mount(holder, view);
  return [holder];
}
