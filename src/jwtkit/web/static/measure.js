// JWT vs session, measured from this browser: /health (the floor), /auth/me (signature + memory) and
// /session/me (a sessions row read), each hammered by six parallel requests in shuffled short rounds.
import { byId, h } from "./dom.js";
import { onLanguage, t } from "./i18n.js";
import { liveAccessToken } from "./flow.js";
import { sessionOpen } from "./session.js";

const PARALLEL = 6;  // a browser's connections per origin over HTTP/1.1
const ROUNDS = 2;
const SLICE_MS = 1000;
let results = null;

async function hammer(path, init, milliseconds) {
  const latencies = [];
  let failures = 0;
  const start = performance.now();
  const end = start + milliseconds;
  async function worker() {
    while (performance.now() < end) {
      const sent = performance.now();
      const response = await fetch(path, init);
      await response.arrayBuffer();
      if (response.ok) latencies.push(performance.now() - sent);
      else failures += 1;
    }
  }
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return { latencies, failures, seconds: (performance.now() - start) / 1000 };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : NaN;
}

function renderResults() {
  const table = byId("figures-table");
  if (!results) return;
  const floor = results.find((r) => r.path === "/health").rate;
  const best = Math.max(...results.map((r) => r.rate));
  table.tBodies[0].replaceChildren(...results.map((r) => h("tr", { "data-path": r.path },
    h("th", { scope: "row" }, h("code", {}, r.path), h("span", { class: "endpoint-note" }, t(`figures.${r.key}`))),
    h("td", {}, h("span", { class: "figure" }, Math.round(r.rate).toLocaleString()),
      h("meter", { min: "0", max: String(best), value: String(r.rate), "aria-hidden": "true" })),
    h("td", {}, r.p50.toFixed(1)),
    h("td", {}, `${(r.rate / floor).toFixed(2)}×`))));
  table.hidden = false;
  const me = results.find((r) => r.key === "jwt");
  const session = results.find((r) => r.key === "session");
  byId("measure-status").textContent = t("figures.done", { ratio: (me.rate / session.rate).toFixed(1) });
}

async function measure() {
  const access = liveAccessToken();
  if (!access || !sessionOpen()) {
    byId("measure-status").textContent = t("figures.needLogin");
    return;
  }
  const targets = [
    { key: "health", path: "/health", init: { credentials: "omit", cache: "no-store" } },
    { key: "jwt", path: "/auth/me", init: { credentials: "omit", cache: "no-store", headers: { Authorization: `Bearer ${access}` } } },
    { key: "session", path: "/session/me", init: { credentials: "same-origin", cache: "no-store" } },
  ];
  const totals = new Map(targets.map((target) => [target.key, { latencies: [], seconds: 0, failures: 0 }]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = [...targets].sort(() => Math.random() - 0.5);
    for (const target of order) {
      byId("measure-status").textContent = t("figures.running", { path: target.path, round: round + 1, rounds: ROUNDS });
      const run = await hammer(target.path, target.init, SLICE_MS);
      const total = totals.get(target.key);
      total.latencies.push(...run.latencies);
      total.seconds += run.seconds;
      total.failures += run.failures;
    }
  }
  if ([...totals.values()].some((total) => total.failures > 0)) {
    results = null;
    byId("measure-status").textContent = t("figures.failed");
    return;
  }
  results = targets.map(({ key, path }) => {
    const total = totals.get(key);
    return { key, path, rate: total.latencies.length / total.seconds, p50: median(total.latencies) };
  });
  renderResults();
}

export function installMeasure() {
  const button = byId("measure");
  button.addEventListener("click", async () => {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      await measure();
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  });
  onLanguage(renderResults);
}
