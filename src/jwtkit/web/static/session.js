// The session mode beside the tokens: the same login, but the server keeps a row and the browser a cookie.
// The cookie is HttpOnly: this page's JavaScript never sees it; the browser attaches it to same-origin requests.
import { call } from "./api.js";
import { byId } from "./dom.js";
import { onLanguage, t } from "./i18n.js";
import { duration, nowSeconds } from "./time.js";
import { Transcript } from "./transcript.js";
import { credentials, failureNote } from "./flow.js";

const session = { open: false, expiresAt: null };
let log;

/** Whether this page believes a session is open (the figures panel measures /session/me with it). */
export function sessionOpen() {
  return session.open;
}

function renderState() {
  const line = byId("session-state");
  if (!session.open) {
    line.textContent = t(session.expiresAt === null ? "session.none" : "session.closed");
  } else {
    line.textContent = t("session.open", { d: duration(session.expiresAt - nowSeconds()) });
  }
  byId("session-me").disabled = session.expiresAt === null;
  byId("session-logout").disabled = !session.open;
}

async function login() {
  const exchange = await call("POST", "/session/login", { body: credentials(), cookie: true,
    sendsCookie: session.open });
  const { status, body } = exchange.response;
  if (status === 200) {
    session.open = true;
    session.expiresAt = nowSeconds() + body.expires_in;
    exchange.response.extraHeaders = [["Set-Cookie: ", t("transcript.setCookie")]];
    log.add(exchange, ["step.sessionLogin", {}], ["note.sessionLogin", {}]);
  } else {
    log.add(exchange, ["step.sessionLogin", {}], failureNote(exchange.response));
  }
}

async function me(title = "step.sessionMe", refused = "note.sessionRefused") {
  const exchange = await call("GET", "/session/me", { cookie: true });
  const { status } = exchange.response;
  if (status === 401) session.open = false;
  log.add(exchange, [title, {}], status === 200 ? ["note.sessionMe", {}] : [refused, { status }]);
}

async function logout() {
  const exchange = await call("POST", "/session/logout", { cookie: true });
  const { status } = exchange.response;
  session.open = false;
  log.add(exchange, ["step.sessionLogout", {}], status === 204 ? ["note.sessionLogout", {}] : ["note.failed", { status }]);
  if (status === 204) await me("step.afterSessionLogout", "note.sessionGone");
}

export function installSession() {
  log = new Transcript(byId("session-log"));
  for (const [id, action] of Object.entries({ "session-login": login, "session-me": () => me(), "session-logout": logout })) {
    const button = byId(id);
    button.addEventListener("click", async () => {
      button.setAttribute("aria-busy", "true");
      try {
        await action();
      } finally {
        button.removeAttribute("aria-busy");
        renderState();
      }
    });
  }
  onLanguage(renderState);
  setInterval(() => session.open && renderState(), 1000);
}
