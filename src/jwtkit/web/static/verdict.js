// The debugger's verdict: which key, and whether the signature verifies. Only GET /.well-known/jwks.json is
// ever requested here (no token, no cookie); everything else happens in this browser with WebCrypto.
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { glance } from "./claims.js";
import { VerifyError, keyFromJwks, keyFromPublicText, keyFromSecret, verifySignature } from "./verify.js";

const JWKS_MAX_AGE_MS = 60_000;
let jwksCache = null;  // {document, at}
let sequence = 0;

async function serverJwks(refresh = false) {
  if (!refresh && jwksCache && Date.now() - jwksCache.at < JWKS_MAX_AGE_MS) return jwksCache.document;
  let response;
  try {
    response = await fetch("/.well-known/jwks.json", { credentials: "omit", cache: "no-store" });
  } catch {
    throw new VerifyError("verify.jwksUnreachable");
  }
  if (!response.ok) throw new VerifyError("verify.jwksUnreachable");
  const document = await response.json();
  jwksCache = { document, at: Date.now() };
  return document;
}

async function keyFor(source, text, header) {
  if (source === "public") return keyFromPublicText(text, header);
  if (source === "secret") return keyFromSecret(text, header);
  try {
    return await keyFromJwks(await serverJwks(), header);
  } catch (error) {
    if (error instanceof VerifyError && error.key === "verify.noKid") {  // a key rotated since: look again
      return keyFromJwks(await serverJwks(true), header);
    }
    throw error;
  }
}

/** Show `text` in the verdict box with state "ok" | "bad" | "idle" | "busy", and optional note lines. */
export function showVerdict(box, kind, text, notes = []) {
  const icon = { ok: "✓", bad: "✗", idle: "…", busy: "…" }[kind];
  box.className = `verdict verdict-${kind}`;
  box.dataset.state = kind;
  box.replaceChildren(h("strong", {}, h("span", { "aria-hidden": "true" }, `${icon} `), text),
    ...notes.map((note) => h("span", { class: "verdict-note" }, note)));
}

/** Verify the debugger's token with the chosen key source and show the verdict (latest call wins). */
export async function verifyNow(state, el) {
  const mine = ++sequence;
  const parsed = state.parsed;
  const source = document.querySelector("input[name=key-source]:checked").value;
  const alg = String(parsed.header.alg);
  if (source === "jwks" && alg.startsWith("HS") && parsed.payload?.token_type === "refresh") {
    showVerdict(el.verdict, "idle", t("verdict.serverOnly", { alg }));  // our refresh tokens: no public key exists
    return;
  }
  showVerdict(el.verdict, "busy", t("verdict.busy"));
  let kind;
  let text;
  const notes = [];
  try {
    const { key, label, short } = await keyFor(source, el.keyInput.value, parsed.header);
    const valid = await verifySignature(parsed, key);
    const where = source === "jwks" ? t("verdict.server", { label }) : label;
    kind = valid ? "ok" : "bad";
    text = valid ? t("verdict.ok", { alg, where }) : t("verdict.bad", { alg, where });
    if (short) notes.push(t("verdict.shortSecret"));
    if (valid) {
      const window = glance(parsed.payload);
      if (window.state === "expired" || window.state === "early") notes.push(t("verdict.timeRefused"));
      if (source === "jwks") notes.push(t("verdict.revocation"));
    }
  } catch (error) {
    if (!(error instanceof VerifyError)) throw error;
    kind = error.key === "verify.noKey" ? "idle" : "bad";
    text = t(error.key, { alg, ...error.params });
  }
  if (state.tampered) notes.unshift(t("verdict.tampered"));
  if (mine === sequence) showVerdict(el.verdict, kind, text, notes);
}
