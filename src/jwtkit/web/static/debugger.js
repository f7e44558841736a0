// The debugger: paste a token, see its three coloured parts, header and payload pretty-printed, each claim
// explained, its time window at a glance, and its signature checked in this browser. Edit the payload and the
// token changes while its signature does not: verification fails (the notes' point about tampering).
// Nothing here sends the token anywhere: the only request is GET /.well-known/jwks.json, which carries no token.
import { byId, claimList, colouredToken } from "./dom.js";
import { onLanguage, t } from "./i18n.js";
import { TokenError, encodeJson, parseToken } from "./jwt.js";
import { explainHeader, explainPayload, glance } from "./claims.js";
import { sampleToken } from "./sample.js";
import { showVerdict, verifyNow } from "./verdict.js";

const state = { parsed: null, tampered: false };
const el = {};

function render({ keepEditors = false } = {}) {
  const text = el.token.value.trim();
  // the coloured copy under the transparent textarea: same text, same wrapping (a final newline keeps a last
  // empty line as tall as the textarea's)
  el.tokenView.replaceChildren(...colouredToken(el.token.value), "\n");
  el.tokenError.hidden = true;
  el.explained.hidden = true;
  state.parsed = null;
  if (!text) {
    for (const node of [el.header, el.payload]) node.value = "";
    for (const node of [el.headerClaims, el.payloadClaims]) node.replaceChildren();
    el.glance.hidden = true;
    showVerdict(el.verdict, "idle", t("verdict.idle"));
    return;
  }
  try {
    state.parsed = parseToken(text);
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    el.tokenError.textContent = t(`token.${error.message}`);
    el.tokenError.hidden = false;
    el.glance.hidden = true;
    showVerdict(el.verdict, "idle", t("verdict.unparsed"));
    return;
  }
  if (!keepEditors) {
    for (const [box, value] of [[el.header, state.parsed.header], [el.payload, state.parsed.payload]]) {
      box.value = JSON.stringify(value, null, 2);
      box.rows = Math.min(24, box.value.split("\n").length + 1);
    }
    el.payloadError.hidden = true;
  }
  renderClaims();
  verifyNow(state, el);
}

function renderClaims() {
  if (!state.parsed) return;
  el.explained.hidden = false;
  claimList(el.headerClaims, explainHeader(state.parsed.header));
  claimList(el.payloadClaims, explainPayload(state.parsed.payload));
  const window = glance(state.parsed.payload);
  el.glance.textContent = window.text;
  el.glance.className = `glance glance-${window.state}`;
  el.glance.hidden = false;
}

/** The header or payload box was edited: re-encode that part, keep the signature as it was. */
function edited(which) {
  const box = which === "header" ? el.header : el.payload;
  if (!state.parsed) return;
  let value;
  try {
    value = JSON.parse(box.value);
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new SyntaxError("object");
  } catch {
    el.payloadError.textContent = t(`token.edit.${which}`);
    el.payloadError.hidden = false;
    return;
  }
  el.payloadError.hidden = true;
  const index = which === "header" ? 0 : 1;
  const parts = [...state.parsed.parts];
  const same = JSON.stringify(value) === JSON.stringify(which === "header" ? state.parsed.header : state.parsed.payload);
  if (same) return;
  parts[index] = encodeJson(value);
  state.tampered = true;
  el.token.value = parts.join(".");
  render({ keepEditors: true });
}

/** Put `token` in the debugger (the flow's "open in the debugger" buttons), and scroll to it. */
export function showToken(token) {
  el.token.value = token;
  state.tampered = false;
  render();
  const still = matchMedia("(prefers-reduced-motion: reduce)").matches;
  byId("debugger").scrollIntoView({ behavior: still ? "auto" : "smooth", block: "start" });
  el.token.focus({ preventScroll: true });
}

function onKeySource() {
  const source = document.querySelector("input[name=key-source]:checked").value;
  el.keyInput.hidden = el.keyLabel.hidden = source === "jwks";
  el.keyLabel.textContent = source === "secret" ? t("verify.secretLabel") : t("verify.publicLabel");
  el.keyInput.placeholder = source === "secret" ? t("verify.secretPlaceholder") : t("verify.publicPlaceholder");
  if (state.parsed) verifyNow(state, el);
}

export function installDebugger() {
  Object.assign(el, {
    token: byId("token"), tokenView: byId("token-view"), tokenError: byId("token-error"), glance: byId("glance"),
    header: byId("header-json"), payload: byId("payload-json"), payloadError: byId("payload-error"),
    headerClaims: byId("header-claims"), payloadClaims: byId("payload-claims"), verdict: byId("verdict"),
    keyInput: byId("key-input"), keyLabel: byId("key-label"), explained: byId("explained"),
  });
  el.token.addEventListener("input", () => {
    state.tampered = false;
    render();
  });
  el.header.addEventListener("input", () => edited("header"));
  el.payload.addEventListener("input", () => edited("payload"));
  for (const radio of document.querySelectorAll("input[name=key-source]")) radio.addEventListener("change", onKeySource);
  el.keyInput.addEventListener("input", () => state.parsed && verifyNow(state, el));
  byId("clear").addEventListener("click", () => showToken(""));
  byId("sample").addEventListener("click", async () => {
    try {
      const { token, publicJwk } = await sampleToken();
      document.querySelector("input[name=key-source][value=public]").checked = true;
      el.keyInput.value = JSON.stringify(publicJwk, null, 2);
      onKeySource();
      showToken(token);
    } catch {
      showVerdict(el.verdict, "bad", t("verify.insecure"));
    }
  });
  onLanguage(() => {
    onKeySource();
    if (!state.parsed) render({ keepEditors: true });
    else renderClaims();
  });
  setInterval(renderClaims, 1000);  // "in 4 min 12 s" counts down; expiry shows the moment it happens
}
