// Times in words: "2026-12-04 10:15:02 UTC", "in 4 min 12 s", "3 min ago".
import { t } from "./i18n.js";

export function nowSeconds() {
  return Date.now() / 1000;
}

/** A NumericDate (seconds) as an ISO-like UTC time, or null when it is not a usable number. */
export function utc(seconds) {
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || Math.abs(seconds) > 8.64e12) return null;
  return new Date(seconds * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** A positive duration in seconds, in the current language: "1 d 2 h", "4 min 12 s", "12 s". */
export function duration(seconds) {
  let rest = Math.max(0, Math.floor(seconds));  // a countdown: "4 min 59 s" until the 5th minute is over
  const units = [["d", 86400], ["h", 3600], ["min", 60], ["s", 1]];
  const out = [];
  for (const [unit, size] of units) {
    if (rest >= size || (unit === "s" && out.length === 0)) {
      out.push(t(`unit.${unit}`, { n: Math.floor(rest / size) }));
      rest %= size;
    }
    if (out.length === 2) break;
  }
  return out.join(" ");
}

/** "in 4 min 12 s" or "3 min ago", relative to now. */
export function relative(seconds, now = nowSeconds()) {
  const delta = seconds - now;
  return delta >= 0 ? t("time.in", { d: duration(delta) }) : t("time.ago", { d: duration(-delta) });
}
