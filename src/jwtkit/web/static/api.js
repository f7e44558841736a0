// Requests of the live demo, to this server only (same origin: the browser sets Origin to it). Each call
// returns the exchange as data, so the transcript can show the request with its headers and the answer.

/**
 * fetch `path`; an exchange {request: {method, path, headers, body, cookie}, response: {status, body}}.
 * `cookie`: the session mode (the browser keeps and sends the cookie); `sendsCookie`: one is expected to go out.
 */
export async function call(method, path, { body, bearer, cookie = false, sendsCookie = cookie } = {}) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  const request = { method, path, headers: { ...headers }, body, cookie: sendsCookie };
  let response;
  try {
    const answer = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: cookie ? "same-origin" : "omit", cache: "no-store", redirect: "error",
    });
    const text = await answer.text();
    let parsed = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: shown as text
    }
    response = { status: answer.status, statusText: answer.statusText, body: parsed,
      challenge: answer.headers.get("WWW-Authenticate"), retryAfter: answer.headers.get("Retry-After") };
  } catch (error) {
    response = { status: 0, statusText: String(error && error.message), body: null };
  }
  return { request, response };
}

export const TOKEN_PATTERN = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;
