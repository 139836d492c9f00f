// The app's words in Chinese (the default) and English, from the server's babel catalogue
// (backend/fieldapp/strings.py). The language follows the phone's unless the worker picked one.
import WORDS from "../strings.js";

export function lang() {
  const chosen = localStorage.getItem("lang");
  if (chosen === "zh" || chosen === "en") return chosen;
  return (navigator.language || "zh").toLowerCase().startsWith("en") ? "en" : "zh";
}

export function setLang(code) {
  localStorage.setItem("lang", code);
  document.documentElement.lang = code === "en" ? "en" : "zh-CN";
}

export function t(key, params = {}) {
  const text = WORDS[lang()][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ""));
}

// A flag, code or service the app does not know (a newer server's) shows as itself.
export const flagText = (flag) => WORDS[lang()]["flag_" + flag] || flag;
export const codeText = (code) => WORDS[lang()]["code_" + code] || code;
export const serviceText = (code) => WORDS[lang()]["service_" + code] || code;

const TZ = "Asia/Shanghai";  // the care timezone: times are shown, and days cut, in it

// Building a formatter costs far more than using one: each is made once per language and kept.
const formatters = new Map();

function formatter(kind, options) {
  const locale = kind === "day" ? "en-CA" : lang() === "en" ? "en-GB" : "zh-CN";
  const key = `${kind}|${locale}`;
  if (!formatters.has(key)) formatters.set(key, new Intl.DateTimeFormat(locale, {timeZone: TZ, ...options}));
  return formatters.get(key);
}

/** The care-timezone day (YYYY-MM-DD) of an instant, or of now shifted by `offsetMs`. */
export function dayOf(iso, offsetMs = 0) {
  return formatter("day", {year: "numeric", month: "2-digit", day: "2-digit"})
    .format(iso ? new Date(iso) : new Date(Date.now() + offsetMs));
}

export function timeOf(iso) {
  return formatter("time", {hour: "2-digit", minute: "2-digit"}).format(new Date(iso));
}

export function dateTimeOf(iso) {
  return formatter("datetime", {month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit"})
    .format(new Date(iso));
}

function dateOf(iso) {
  return formatter("date", {month: "2-digit", day: "2-digit"}).format(new Date(iso));
}

/** A task's window: its hours on one day, or its first and last days (a weekly patrol). */
export function windowText(startIso, endIso, withDate = false) {
  const lastDay = new Date(Date.parse(endIso) - 1).toISOString();
  if (dayOf(startIso) !== dayOf(lastDay)) return `${dateOf(startIso)}–${dateOf(lastDay)}`;
  return `${withDate ? dateTimeOf(startIso) : timeOf(startIso)}–${timeOf(endIso)}`;
}
