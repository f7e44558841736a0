// A compact JWS, taken apart in the browser: base64url, the three parts, JSON. Nothing leaves the page.

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export class TokenError extends Error {}

/** Strict base64url (RFC 7515 §2): the URL-safe alphabet, no padding, no stray characters. */
export function b64urlDecode(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) throw new TokenError("base64url");
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function b64urlEncode(bytes) {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function encodeJson(value) {
  return b64urlEncode(encoder.encode(JSON.stringify(value)));
}

function decodeJson(part, which) {
  let text;
  try {
    text = decoder.decode(b64urlDecode(part));
  } catch {
    throw new TokenError(`${which}.base64`);
  }
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TokenError(`${which}.json`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new TokenError(`${which}.object`);
  return value;
}

/**
 * The parts of a compact JWS: {parts: [h, p, s], header, payload, signature (bytes), signingInput (bytes)}.
 * Throws TokenError with a label key for anything that is not one.
 */
export function parseToken(token) {
  const parts = token.replace(/\s+/g, "").split(".");  // a token copied from a terminal may wrap
  if (parts.length === 5) throw new TokenError("jwe");
  if (parts.length !== 3) throw new TokenError("parts");
  const header = decodeJson(parts[0], "header");
  const payload = decodeJson(parts[1], "payload");
  let signature;
  try {
    signature = b64urlDecode(parts[2]);
  } catch {
    throw new TokenError("signature.base64");
  }
  return { parts, header, payload, signature, signingInput: encoder.encode(`${parts[0]}.${parts[1]}`) };
}

/** Parse without throwing: the parsed token or null (for the flow's token cards). */
export function tryParse(token) {
  try {
    return parseToken(token);
  } catch {
    return null;
  }
}
