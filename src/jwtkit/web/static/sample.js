// A sample token made in this browser: a fresh ES256 key pair, the notes' payload, signed with WebCrypto.
// Sig = ECDSA(SHA256(B64(Header).B64(Payload)), PrivateKey); JWT = B64(Header).B64(Payload).B64(Sig).
import { b64urlEncode, encodeJson } from "./jwt.js";

export async function sampleToken() {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const publicJwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
  const kid = "sample";
  const now = Math.floor(Date.now() / 1000);
  const header = { typ: "JWT", alg: "ES256", kid };
  const payload = { token_type: "access", exp: now + 300, iat: now, jti: "1foo2jwt3id4", user_id: 123 };
  const signingInput = `${encodeJson(header)}.${encodeJson(payload)}`;
  const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey,
    new TextEncoder().encode(signingInput));
  const { kty, crv, x, y } = publicJwk;
  return { token: `${signingInput}.${b64urlEncode(new Uint8Array(signature))}`,
    publicJwk: { kty, crv, x, y, kid, alg: "ES256", use: "sig" } };
}
