// Labels in English and Korean: t(key, params), the static labels (data-i18n), and the switch.
// The language lives in memory (and the URL's ?lang=), like everything else on this page.
import { en } from "./strings-en.js";
import { ko } from "./strings-ko.js";

const tables = { en, ko };
const listeners = [];
let current = pickLanguage();

function pickLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked && asked in tables) return asked;
  const preferred = (navigator.languages || [navigator.language || "en"])[0] || "en";
  return preferred.toLowerCase().startsWith("ko") ? "ko" : "en";
}

export function language() {
  return current;
}

/** The label `key` in the current language, with {name} placeholders filled from `params`. */
export function t(key, params = {}) {
  const text = tables[current][key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** Call `render` now and again whenever the language changes. */
export function onLanguage(render) {
  listeners.push(render);
  render();
}

function applyStatic() {
  document.documentElement.lang = current;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of document.querySelectorAll("[data-i18n-aria]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nAria));
  }
  document.title = t("title");
  const other = current === "en" ? "ko" : "en";
  const button = document.getElementById("lang");
  button.textContent = tables[other]["language.name"];
  button.lang = other;
  button.setAttribute("aria-label", t("language.switch"));
}

export function setLanguage(lang) {
  current = lang;
  const url = new URL(location.href);
  url.searchParams.set("lang", lang);
  history.replaceState(null, "", url);
  applyStatic();
  for (const render of listeners) render();
}

export function installLanguageSwitch() {
  applyStatic();
  document.getElementById("lang").addEventListener("click", () => setLanguage(current === "en" ? "ko" : "en"));
}

/** Keys present in one language and missing in the other (the browser tests check it is empty). */
export function missingLabels() {
  const missing = [];
  for (const [lang, table] of Object.entries(tables)) {
    for (const other of Object.values(tables)) {
      for (const key of Object.keys(other)) if (!(key in table)) missing.push(`${lang}:${key}`);
    }
  }
  return [...new Set(missing)];
}
