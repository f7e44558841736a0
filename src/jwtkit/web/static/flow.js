// The notes' flow, live on this server: register, log in, call /auth/me with the Bearer header, watch the
// access token count down, refresh (rotation), refresh with the old token again (reuse detection revokes the
// family), log out (the access token is refused at once). Tokens live in this module's memory only.
import { call } from "./api.js";
import { byId, colouredToken, h } from "./dom.js";
import { onLanguage, t } from "./i18n.js";
import { tryParse } from "./jwt.js";
import { duration, nowSeconds } from "./time.js";
import { Transcript } from "./transcript.js";
import { showToken } from "./debugger.js";

// {access, refresh, spent: [old refresh tokens], status: {token: "live" | "spent" | "revoked"}}
const tokens = { access: null, refresh: null, spent: null, status: new Map() };
let log;

/** The note for a failed answer: throttled (wait), wrong password, or just its status. */
export function failureNote(response) {
  if (response.status === 429 || response.status === 503) return ["note.retry", { s: response.retryAfter || "?" }];
  return [response.status === 401 ? "note.badLogin" : "note.failed", { status: response.status }];
}

export function credentials() {
  return { username: byId("username").value.trim(), password: byId("password").value };
}

/** The current access token while this page believes it live (the figures panel measures with it). */
export function liveAccessToken() {
  return tokens.access && tokens.status.get(tokens.access) === "live" ? tokens.access : null;
}

function jti(token) {
  const parsed = tryParse(token);
  return parsed ? String(parsed.payload.jti) : "?";
}

function fid(token) {
  const parsed = tryParse(token);
  return parsed ? String(parsed.payload.fid ?? "?") : "?";
}

function tokenCard(kind, token) {
  const parsed = tryParse(token);
  const status = tokens.status.get(token) || "live";
  const exp = parsed && typeof parsed.payload.exp === "number" ? parsed.payload.exp : null;
  const iat = parsed && typeof parsed.payload.iat === "number" ? parsed.payload.iat : null;
  const left = exp === null ? null : exp - nowSeconds();
  const countdown = h("span", { class: "countdown", "data-countdown": kind });
  const bar = h("progress", { max: exp && iat ? String(exp - iat) : "1", value: String(Math.max(0, left ?? 0)) });
  if (left !== null && status === "live") {
    countdown.textContent = left > 0 ? t("flow.expiresIn", { d: duration(left) }) : t("flow.expired");
  }
  return h("div", { class: `token-card status-${status}`, "data-kind": kind, "data-status": status },
    h("p", { class: "token-card-title" }, h("strong", {}, t(`flow.card.${kind}`)),
      h("span", { class: `badge badge-${status}` }, t(`flow.status.${status}`))),
    h("p", { class: "token-inline" }, colouredToken(token, { short: true })),
    h("p", { class: "token-meta" }, h("code", {}, `jti ${jti(token)}`), " ", countdown),
    status === "live" && left !== null ? bar : null,
    h("button", { type: "button", class: "small", onclick: () => showToken(token),
      "aria-label": `${t("flow.open")}: ${t(`flow.card.${kind}`)}` }, t("flow.open")));
}

function renderTokens() {
  const cards = [];
  if (tokens.access) cards.push(tokenCard("access", tokens.access));
  if (tokens.refresh) cards.push(tokenCard("refresh", tokens.refresh));
  if (tokens.spent) cards.push(tokenCard("spent", tokens.spent));
  byId("tokens").replaceChildren(...cards);
  byId("jwt-me").disabled = !tokens.access;
  byId("jwt-refresh").disabled = !tokens.refresh;
  byId("jwt-reuse").disabled = !tokens.spent;
  byId("jwt-logout").disabled = !(tokens.access && tokens.refresh);
}

function adopt(pair) {
  tokens.access = pair.access_token;
  tokens.refresh = pair.refresh_token;
  tokens.status.set(tokens.access, "live");
  tokens.status.set(tokens.refresh, "live");
}

function revokeAll() {
  for (const token of [tokens.access, tokens.refresh, tokens.spent]) if (token) tokens.status.set(token, "revoked");
}

async function busy(button, action) {
  button.setAttribute("aria-busy", "true");
  try {
    await action();
  } finally {
    button.removeAttribute("aria-busy");
    renderTokens();
  }
}

async function register() {
  const exchange = await call("POST", "/auth/register", { body: credentials() });
  const { status, body } = exchange.response;
  const note = status === 201 ? ["note.registered", { id: body.id }]
    : status === 409 ? ["note.taken", {}]
    : status === 403 ? ["note.registrationClosed", {}] : ["note.failed", { status }];
  log.add(exchange, ["step.register", {}], note);
}

async function login() {
  const exchange = await call("POST", "/auth/token", { body: credentials() });
  const { status, body } = exchange.response;
  if (status === 200) {
    tokens.spent = null;
    adopt(body);
    log.add(exchange, ["step.login", {}], ["note.login", { ttl: duration(body.expires_in) }]);
  } else {
    log.add(exchange, ["step.login", {}], failureNote(exchange.response));
  }
}

async function me(title = "step.me", why = null) {
  const exchange = await call("GET", "/auth/me", { bearer: tokens.access });
  const { status } = exchange.response;
  const note = status === 200 ? ["note.me", {}] : [why || "note.meRefused", { status }];
  if (status === 401) tokens.status.set(tokens.access, "revoked");
  log.add(exchange, [title, {}], note);
}

async function refresh() {
  const before = tokens.refresh;
  const exchange = await call("POST", "/auth/token/refresh", { body: { refresh_token: before } });
  const { status, body } = exchange.response;
  if (status === 200) {
    tokens.status.set(before, "spent");
    tokens.spent = before;
    adopt(body);
    log.add(exchange, ["step.refresh", {}], ["note.rotated", { old: jti(before), new: jti(body.refresh_token) }]);
  } else {
    if (status === 401) revokeAll();
    log.add(exchange, ["step.refresh", {}], [status === 401 ? "note.refreshRefused" : "note.failed", { status }]);
  }
}

async function reuse() {
  const exchange = await call("POST", "/auth/token/refresh", { body: { refresh_token: tokens.spent } });
  const { status } = exchange.response;
  if (status === 401) {
    revokeAll();
    log.add(exchange, ["step.reuse", {}], ["note.reuse", { fid: fid(tokens.spent) }]);
    await me("step.afterReuse", "note.familyRevoked");
  } else {
    log.add(exchange, ["step.reuse", {}], ["note.failed", { status }]);
  }
}

async function logout() {
  const exchange = await call("POST", "/auth/logout", { body: { refresh_token: tokens.refresh }, bearer: tokens.access });
  const { status } = exchange.response;
  if (status === 204) {
    revokeAll();
    log.add(exchange, ["step.logout", {}], ["note.logout", {}]);
    await me("step.afterLogout", "note.loggedOut");
  } else {
    log.add(exchange, ["step.logout", {}], [status === 401 ? "note.logoutRefused" : "note.failed", { status }]);
  }
}

function tick() {
  for (const card of document.querySelectorAll(".token-card")) {
    const token = { access: tokens.access, refresh: tokens.refresh, spent: tokens.spent }[card.dataset.kind];
    const parsed = token && tryParse(token);
    if (!parsed || typeof parsed.payload.exp !== "number" || card.dataset.status !== "live") continue;
    const left = parsed.payload.exp - nowSeconds();
    card.querySelector(".countdown").textContent = left > 0 ? t("flow.expiresIn", { d: duration(left) }) : t("flow.expired");
    const bar = card.querySelector("progress");
    if (bar) bar.value = Math.max(0, left);
  }
}

export function installFlow() {
  log = new Transcript(byId("jwt-log"));
  const actions = { register, "jwt-login": login, "jwt-me": () => me(), "jwt-refresh": refresh,
    "jwt-reuse": reuse, "jwt-logout": logout };
  for (const [id, action] of Object.entries(actions)) {
    const button = byId(id);
    button.addEventListener("click", () => busy(button, action));
  }
  onLanguage(renderTokens);
  setInterval(tick, 1000);
}
