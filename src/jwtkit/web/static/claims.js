// One line per claim: what it means, and for the times, when in words. Tolerant of any extra claim.
import { t } from "./i18n.js";
import { nowSeconds, relative, utc } from "./time.js";

const TIMES = new Set(["exp", "nbf", "iat"]);
const KNOWN_PAYLOAD = new Set([
  "exp", "nbf", "iat", "iss", "aud", "sub", "jti", "token_type", "user_id", "username", "fid",
]);
const KNOWN_HEADER = new Set(["alg", "typ", "kid", "cty"]);

function describeTime(name, value, now) {
  const when = utc(value);
  if (when === null) return t("claim.time.invalid");
  return t(`claim.${name}`, { when, rel: relative(value, now) });
}

/** [{name, value, text, state}] for the payload: state "bad" for an expired/not-yet-valid time. */
export function explainPayload(payload, now = nowSeconds()) {
  const lines = [];
  for (const [name, value] of Object.entries(payload)) {
    let text;
    let state = "";
    if (TIMES.has(name)) {
      text = describeTime(name, value, now);
      if (name === "exp" && typeof value === "number" && value <= now) state = "bad";
      if (name === "nbf" && typeof value === "number" && value > now) state = "bad";
    } else if (name === "token_type") {
      text = value === "access" || value === "refresh" ? t(`claim.token_type.${value}`) : t("claim.token_type");
    } else if (KNOWN_PAYLOAD.has(name)) {
      text = t(`claim.${name}`);
    } else {
      text = t("claim.private");
    }
    lines.push({ name, value, text, state });
  }
  return lines;
}

export function explainHeader(header) {
  return Object.entries(header).map(([name, value]) => {
    let text = KNOWN_HEADER.has(name) ? t(`header.${name}`) : t("header.other");
    if (name === "alg" && typeof value === "string" && value.toLowerCase() === "none") text = t("header.alg.none");
    return { name, value, text, state: name === "alg" && String(value).toLowerCase() === "none" ? "bad" : "" };
  });
}

/**
 * The token's time window at a glance: {state: "valid" | "expired" | "early" | "none", text}.
 * "none": no exp (a token that never expires is itself worth a warning).
 */
export function glance(payload, now = nowSeconds()) {
  const { exp, nbf } = payload;
  if (typeof nbf === "number" && nbf > now) return { state: "early", text: t("glance.early", { rel: relative(nbf, now) }) };
  if (typeof exp === "number" && exp <= now) return { state: "expired", text: t("glance.expired", { rel: relative(exp, now) }) };
  if (typeof exp !== "number") return { state: "none", text: t("glance.noexp") };
  return { state: "valid", text: t("glance.valid", { rel: relative(exp, now) }) };
}
