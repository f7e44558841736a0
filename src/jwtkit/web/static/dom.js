// Building DOM without HTML strings (the CSP's Trusted Types forbid them, and a token is hostile input).

/** h("p", {class: "x", onclick: fn}, "text", child…): an element; string children become text nodes. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name === "text") el.textContent = value;
    else el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function byId(id) {
  return document.getElementById(id);
}

/** The three parts of a token as coloured spans, separated by dots (shortened when `short`). */
export function colouredToken(token, { short = false } = {}) {
  const names = ["header", "payload", "signature"];
  if (!token) return [];
  const parts = token.split(".");
  const out = [];
  parts.forEach((part, i) => {
    if (i > 0) out.push(h("span", { class: "dot" }, "."));
    const shown = short && part.length > 14 ? `${part.slice(0, 10)}…${part.slice(-4)}` : part;
    out.push(h("span", { class: `part-${names[i] || "extra"}` }, shown));
  });
  return out;
}

/** A value as it appears in JSON (strings quoted), for the claim lines. */
export function jsonValue(value) {
  return JSON.stringify(value);
}

/** One `<li>` per explained claim: name, value, meaning. */
export function claimList(list, lines) {
  list.replaceChildren(...lines.map((line) => h("li", { class: line.state ? `claim ${line.state}` : "claim" },
    h("code", { class: "claim-name" }, line.name),
    h("code", { class: "claim-value" }, jsonValue(line.value)),
    h("span", { class: "claim-text" }, line.text))));
}
