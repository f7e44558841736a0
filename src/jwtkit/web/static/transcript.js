// The demo's transcript: each exchange as the request (method, path, headers, body) and the answer, tokens
// shown as their three coloured parts, with a line saying what it shows. Kept as data, redrawn on a language change.
import { h, colouredToken } from "./dom.js";
import { onLanguage, t } from "./i18n.js";

const MAX_ENTRIES = 30;
const OPEN_ENTRIES = 2;

/** A JSON value as text nodes, tokens coloured and shortened, passwords masked. */
function jsonNodes(value) {
  const masked = value && typeof value === "object" && "password" in value
    ? { ...value, password: "•".repeat(Math.min(String(value.password).length, 12)) } : value;
  const text = typeof masked === "string" ? masked : JSON.stringify(masked, null, 2);
  const nodes = [];
  const pattern = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    nodes.push(text.slice(last, match.index), h("span", { class: "token-inline" }, colouredToken(match[0], { short: true })));
    last = match.index + match[0].length;
  }
  nodes.push(text.slice(last));
  return nodes;
}

function requestBlock(request) {
  const lines = [h("span", { class: "http-line" }, `${request.method} ${request.path} HTTP/1.1`), "\n"];
  for (const [name, value] of Object.entries(request.headers)) {
    lines.push(h("span", { class: "header-name" }, `${name}: `));
    lines.push(...(name === "Authorization" ? ["Bearer ", h("span", { class: "token-inline" },
      colouredToken(value.slice(7), { short: true }))] : [value]), "\n");
  }
  if (request.cookie) {
    lines.push(h("span", { class: "header-name" }, "Cookie: "), h("em", {}, t("transcript.cookie")), "\n");
  }
  if (request.body !== undefined) lines.push("\n", ...jsonNodes(request.body));
  return h("pre", { class: "http request", "aria-label": t("transcript.request") }, lines);
}

function responseBlock(response) {
  const kind = response.status >= 200 && response.status < 300 ? "ok" : "bad";
  const lines = [h("span", { class: `http-line status-${kind}` },
    response.status ? `HTTP/1.1 ${response.status} ${response.statusText || ""}`.trim() : t("transcript.network"))];
  if (response.challenge) lines.push("\n", h("span", { class: "header-name" }, "WWW-Authenticate: "), response.challenge);
  for (const extra of response.extraHeaders || []) lines.push("\n", h("span", { class: "header-name" }, extra[0]), extra[1]);
  if (response.body !== null && response.body !== undefined && response.body !== "") {
    lines.push("\n\n", ...jsonNodes(response.body));
  }
  return h("pre", { class: "http response", "aria-label": t("transcript.response") }, lines);
}

export class Transcript {
  constructor(list) {
    this.list = list;
    this.entries = [];
    this.count = 0;
    onLanguage(() => this.redraw());
  }

  /** Add one exchange; `title` and `note` are [labelKey, params] pairs (note: a function of nothing, too). */
  add(exchange, title, note) {
    this.count += 1;
    this.entries.unshift({ number: this.count, exchange, title, note });
    this.entries.length = Math.min(this.entries.length, MAX_ENTRIES);
    this.redraw();
  }

  clear() {
    this.entries = [];
    this.redraw();
  }

  redraw() {
    // the newest exchanges open, older ones folded to their title line (a <details>: keyboard-friendly)
    const newest = this.entries.length ? this.entries[0].number : 0;
    this.list.replaceChildren(...this.entries.map(({ number, exchange, title, note }) => {
      const { status } = exchange.response;
      const ok = status >= 200 && status < 300;
      return h("li", { class: `exchange ${ok ? "exchange-ok" : "exchange-bad"}`, "data-status": status },
        h("details", { open: newest - number < OPEN_ENTRIES },
          h("summary", { class: "exchange-title" }, h("span", { class: "step-number" }, `${number}`),
            h("span", {}, t(...title)), h("span", { class: `status-pill status-${ok ? "ok" : "bad"}` }, String(status))),
          requestBlock(exchange.request), responseBlock(exchange.response),
          note ? h("p", { class: "exchange-note" }, t(...note)) : null));
    }));
  }
}
