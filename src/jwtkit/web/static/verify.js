// Signature verification with WebCrypto, in this browser. The key comes from this server's JWKS, a
// pasted PEM/JWK public key or a pasted HMAC secret; the token's own header never supplies a key, and
// its alg must fit the key (the algorithm-confusion attack is refused here as it is on the server).

export class VerifyError extends Error {
  constructor(key, params = {}) {
    super(key);
    this.key = key;
    this.params = params;
  }
}

const HASHES = { 256: "SHA-256", 384: "SHA-384", 512: "SHA-512" };
const CURVES = { ES256: "P-256", ES384: "P-384", ES512: "P-521" };
const EC_SIZES = { ES256: 64, ES384: 96, ES512: 132 };

/** How WebCrypto does `alg`: {kty, importParams, verifyParams, curve?} or a VerifyError. */
export function algorithm(alg, crv) {
  if (typeof alg !== "string" || alg.toLowerCase() === "none") throw new VerifyError("verify.none");
  const bits = alg.slice(2);
  const hash = HASHES[bits];
  if (/^HS(256|384|512)$/.test(alg)) {
    return { kty: "oct", importParams: { name: "HMAC", hash }, verifyParams: { name: "HMAC" } };
  }
  if (/^RS(256|384|512)$/.test(alg)) {
    const params = { name: "RSASSA-PKCS1-v1_5", hash };
    return { kty: "RSA", importParams: params, verifyParams: params };
  }
  if (/^PS(256|384|512)$/.test(alg)) {
    return { kty: "RSA", importParams: { name: "RSA-PSS", hash },
      verifyParams: { name: "RSA-PSS", saltLength: Number(bits) / 8 } };
  }
  if (alg in CURVES) {
    return { kty: "EC", curve: CURVES[alg], size: EC_SIZES[alg],
      importParams: { name: "ECDSA", namedCurve: CURVES[alg] }, verifyParams: { name: "ECDSA", hash } };
  }
  const okp = alg === "EdDSA" ? (crv || "Ed25519") : alg;
  if (okp === "Ed25519" || okp === "Ed448") {
    return { kty: "OKP", curve: okp, importParams: { name: okp }, verifyParams: { name: okp } };
  }
  throw new VerifyError("verify.unsupportedAlg", { alg });
}

function subtle() {
  if (!globalThis.crypto || !crypto.subtle) throw new VerifyError("verify.insecure");
  return crypto.subtle;
}

/** Only the public members WebCrypto needs: never `d` or other private parts, never `alg`/`use` checks of its own. */
function publicJwk(jwk) {
  const members = { RSA: ["n", "e"], EC: ["crv", "x", "y"], OKP: ["crv", "x"] }[jwk.kty];
  if (!members) throw new VerifyError("verify.keyType", { kty: String(jwk.kty) });
  if ("d" in jwk) throw new VerifyError("verify.private");
  const out = { kty: jwk.kty, ext: true };
  for (const name of members) out[name] = jwk[name];
  return out;
}

async function importJwk(jwk, alg) {
  if (jwk.kty === "oct") throw new VerifyError("verify.octJwk");
  if (typeof jwk.alg === "string" && jwk.alg !== alg) throw new VerifyError("verify.algMismatch", { key: jwk.alg, alg });
  const spec = algorithm(alg, jwk.crv);
  if (spec.kty !== jwk.kty || (spec.curve && spec.curve !== jwk.crv)) {
    throw new VerifyError("verify.keyMismatch", { alg, kty: `${jwk.kty}${jwk.crv ? ` ${jwk.crv}` : ""}` });
  }
  try {
    return await subtle().importKey("jwk", publicJwk(jwk), spec.importParams, false, ["verify"]);
  } catch (error) {
    if (error instanceof VerifyError) throw error;
    if (error && error.name === "NotSupportedError") throw new VerifyError("verify.unsupportedAlg", { alg });
    throw new VerifyError("verify.badKey");
  }
}

function pemBody(pem) {
  const match = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(pem);
  if (!match) throw new VerifyError("verify.badPem");
  if (match[1].includes("PRIVATE")) throw new VerifyError("verify.private");
  if (match[1] === "CERTIFICATE") throw new VerifyError("verify.certificate");
  if (match[1] !== "PUBLIC KEY") throw new VerifyError("verify.pemType", { type: match[1] });
  const text = match[2].replace(/\s+/g, "");
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    throw new VerifyError("verify.badPem");
  }
}

async function importPem(pem, alg) {
  const spec = algorithm(alg);
  if (spec.kty === "oct") throw new VerifyError("verify.hmacWithPublic", { alg });
  try {
    return await subtle().importKey("spki", pemBody(pem), spec.importParams, false, ["verify"]);
  } catch (error) {
    if (error instanceof VerifyError) throw error;
    if (error && error.name === "NotSupportedError") throw new VerifyError("verify.unsupportedAlg", { alg });
    throw new VerifyError("verify.keyMismatch", { alg, kty: "PEM" });
  }
}

/** The JWK of a set that the token's header points at: by kid, or the only one. */
export function pickFromSet(set, header) {
  const keys = Array.isArray(set.keys) ? set.keys.filter((k) => k && typeof k === "object") : [];
  if (header.kid !== undefined) {
    const found = keys.find((k) => k.kid === header.kid);
    if (!found) throw new VerifyError("verify.noKid", { kid: String(header.kid) });
    return found;
  }
  if (keys.length !== 1) throw new VerifyError("verify.needKid");
  return keys[0];
}

/** A CryptoKey for the token from a pasted public key: a PEM, a JWK or a JWK Set. */
export async function keyFromPublicText(text, header) {
  const trimmed = text.trim();
  if (!trimmed) throw new VerifyError("verify.noKey");
  if (trimmed.startsWith("-----")) return { key: await importPem(trimmed, header.alg), label: "PEM" };
  let jwk;
  try {
    jwk = JSON.parse(trimmed);
  } catch {
    throw new VerifyError("verify.badKeyText");
  }
  if (jwk === null || typeof jwk !== "object") throw new VerifyError("verify.badKeyText");
  if (Array.isArray(jwk.keys)) jwk = pickFromSet(jwk, header);
  if (algorithm(header.alg).kty === "oct") throw new VerifyError("verify.hmacWithPublic", { alg: header.alg });
  return { key: await importJwk(jwk, header.alg), label: jwk.kid ? `kid ${jwk.kid}` : "JWK" };
}

/** A CryptoKey for the token from this server's JWKS document (already fetched). */
export async function keyFromJwks(jwks, header) {
  if (algorithm(header.alg).kty === "oct") throw new VerifyError("verify.hmacWithPublic", { alg: header.alg });
  const jwk = pickFromSet(jwks, header);
  return { key: await importJwk(jwk, header.alg), label: `kid ${jwk.kid}` };
}

/** A CryptoKey for an HS* token from a secret typed as text (UTF-8). */
export async function keyFromSecret(secret, header) {
  const spec = algorithm(header.alg);
  if (spec.kty !== "oct") throw new VerifyError("verify.secretForPublic", { alg: header.alg });
  if (!secret) throw new VerifyError("verify.noKey");
  const bytes = new TextEncoder().encode(secret);
  const key = await subtle().importKey("raw", bytes, spec.importParams, false, ["verify"]);
  return { key, label: "HMAC", short: bytes.length * 8 < Number(header.alg.slice(2)) };
}

/** true when the signature of `parsed` (from parseToken) verifies with `key` (a CryptoKey). */
export async function verifySignature(parsed, key) {
  const spec = algorithm(parsed.header.alg, key.algorithm.name);
  if (spec.size && parsed.signature.length !== spec.size) return false;  // ECDSA: exactly R||S
  return subtle().verify(spec.verifyParams, key, parsed.signature, parsed.signingInput);
}

