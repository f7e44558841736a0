"""The debugger in a real browser against a real ``jwtkit serve``: a pasted token's parts and claims,
verification with WebCrypto (the server's JWKS, a pasted PEM or JWK, an HMAC secret), tampering caught,
and the token sent nowhere."""

from __future__ import annotations

import json
import re
import time

import pytest

import jwtkit

from .conftest import screenshot, user_tokens

pytestmark = pytest.mark.slow


def paste(page, token: str) -> None:
    page.page.fill("#token", token)


def verdict(page, state: str) -> str:
    page.page.wait_for_selector(f"#verdict[data-state={state}]", timeout=10_000)
    text: str = page.page.inner_text("#verdict")
    return text


def choose_key(page, source: str, text: str = "") -> None:
    page.page.check(f"input[name=key-source][value={source}]")
    if source != "jwks":
        page.page.fill("#key-input", text)


def test_a_pasted_token_shows_its_three_coloured_parts_and_each_claim_in_words(page, server):
    token = user_tokens(server, "claims-alice")["access_token"]
    page.open()
    paste(page, token)
    header, payload, signature = token.split(".")
    assert page.page.inner_text("#token-view .part-header") == header
    assert page.page.inner_text("#token-view .part-payload") == payload
    assert page.page.inner_text("#token-view .part-signature") == signature
    claims = {line.split("\n")[0]: line for line in page.page.locator("#payload-claims li").all_inner_texts()}
    assert {"exp", "iat", "jti", "token_type", "user_id", "username", "fid"} <= claims.keys()
    assert re.search(r"UTC — in (4 min \d+ s|5 min)$", claims["exp"])
    assert "access token" in claims["token_type"]
    assert "revokes by it" in claims["jti"]
    assert json.loads(page.page.input_value("#header-json"))["kid"]
    assert json.loads(page.page.input_value("#payload-json"))["username"] == "claims-alice"
    assert "Within its time window" in page.page.inner_text("#glance")
    assert "Signature verified" in verdict(page, "ok")
    screenshot(page, "debugger", selector="#debugger")


def test_a_token_of_this_server_verifies_against_its_jwks_in_the_browser(page, server):
    token = user_tokens(server, "jwks-alice")["access_token"]
    kid = jwtkit.decode_unverified(token)[0]["kid"]
    page.open()
    paste(page, token)
    assert f"this server's key kid {kid}" in verdict(page, "ok")


def test_editing_the_payload_changes_the_token_but_not_its_signature_and_verification_fails(page, server):
    token = user_tokens(server, "tamper-alice")["access_token"]
    page.open()
    paste(page, token)
    verdict(page, "ok")
    claims = json.loads(page.page.input_value("#payload-json"))
    page.page.fill("#payload-json", json.dumps({**claims, "user_id": 1}, indent=2))
    tampered = page.page.input_value("#token")
    assert tampered.split(".")[0] == token.split(".")[0]
    assert tampered.split(".")[1] != token.split(".")[1]
    assert tampered.split(".")[2] == token.split(".")[2]
    text = verdict(page, "bad")
    assert "does NOT verify" in text
    assert "You edited the token" in text


def test_an_expired_hmac_token_is_shown_expired_and_verifies_only_with_its_secret(page):
    secret = "a-shared-secret-of-32-bytes-long!"
    token = jwtkit.encode({"user_id": 123, "token_type": "access", "jti": "1foo2jwt3id4",
                           "exp": int(time.time()) - 90}, jwtkit.Key.from_secret(secret.encode(), "HS256"))
    page.open()
    paste(page, token)
    glance = page.page.locator("#glance")
    assert "Expired" in glance.inner_text()
    assert "glance-expired" in (glance.get_attribute("class") or "")
    assert page.page.locator("#payload-claims li.bad").inner_text().startswith("exp")
    choose_key(page, "secret", secret)
    assert "a server refuses this token" in verdict(page, "ok")
    choose_key(page, "secret", secret + "x")
    assert "does NOT verify" in verdict(page, "bad")


def test_a_token_not_valid_yet_is_shown_at_a_glance(page):
    key = jwtkit.Key.from_secret(b"k" * 32, "HS256")
    page.open()
    paste(page, jwtkit.encode({"nbf": int(time.time()) + 3600, "exp": int(time.time()) + 7200}, key))
    assert "Not valid yet" in page.page.inner_text("#glance")


@pytest.mark.parametrize("alg", ["ES256", "ES384", "ES512", "RS256", "PS384", "EdDSA"])
def test_a_pasted_pem_public_key_verifies_and_another_key_does_not(page, alg):
    key, other = jwtkit.Key.generate(alg), jwtkit.Key.generate(alg)
    token = jwtkit.encode({"user_id": 7, "exp": int(time.time()) + 300}, key)
    page.open()
    paste(page, token)
    choose_key(page, "public", key.public_key().to_pem().decode())
    assert f"Signature verified ({alg}, PEM)" in verdict(page, "ok")
    choose_key(page, "public", other.public_key().to_pem().decode())
    assert "does NOT verify" in verdict(page, "bad")


def test_a_pasted_jwk_verifies_and_a_private_key_is_refused(page):
    key = jwtkit.Key.generate("ES256", kid="k1")
    page.open()
    paste(page, jwtkit.encode({"user_id": 7, "exp": int(time.time()) + 300}, key))
    choose_key(page, "public", json.dumps(key.public_key().to_jwk()))
    assert "kid k1" in verdict(page, "ok")
    choose_key(page, "public", key.to_pem(private=True).decode())
    assert "private key" in verdict(page, "bad")


def test_an_hs256_token_against_the_server_s_public_keys_is_refused_as_algorithm_confusion(page):
    page.open()
    paste(page, jwtkit.encode({"user_id": 1}, jwtkit.Key.from_secret(b"s" * 32, "HS256")))
    assert "algorithm-confusion" in verdict(page, "bad")


def test_a_malformed_token_says_what_is_wrong(page):
    page.open()
    paste(page, "eyJhbGciOiJIUzI1NiJ9.not base64!.sig")
    assert "payload is not valid base64url" in page.page.inner_text("#token-error")


def test_the_debugger_sends_the_token_nowhere_and_stores_nothing(page, server):
    tokens = user_tokens(server, "private-alice")
    token = tokens["access_token"]
    page.open()
    paste(page, token)
    verdict(page, "ok")  # fetched the JWKS, which carries no token
    claims = json.loads(page.page.input_value("#payload-json"))
    page.page.fill("#payload-json", json.dumps({**claims, "user_id": 2}))
    verdict(page, "bad")
    choose_key(page, "secret", "not the key")
    choose_key(page, "public", "{}")
    page.page.wait_for_timeout(300)
    for part in (token, token.split(".")[1], token.split(".")[2], tokens["refresh_token"]):
        assert page.sent(part) == []
    paths = {request.url.removeprefix(page.base) for request in page.requests}
    assert "/.well-known/jwks.json" in paths
    assert {p for p in paths if not p.startswith("/ui/")} <= {"/", "/.well-known/jwks.json"}
    storage = page.page.evaluate("[localStorage.length, sessionStorage.length, document.cookie]")
    assert storage == [0, 0, ""]


def test_the_labels_switch_to_korean_and_every_label_has_both_languages(page, server):
    page.open()
    missing = page.page.evaluate("import('/ui/i18n.js').then((m) => m.missingLabels())")
    assert missing == []
    page.page.click("#lang")
    assert page.page.evaluate("document.documentElement.lang") == "ko"
    assert page.page.inner_text("#debugger-title") == "디버거"
    paste(page, user_tokens(server, "korean-alice")["access_token"])
    assert "후 만료" in page.page.inner_text("#glance")
    assert "서명 검증 성공" in verdict(page, "ok")
    page.open("?lang=ko")
    assert page.page.inner_text("#flow-title") == "이 서버에서 직접 해 보는 흐름"


def test_a_token_pasted_with_line_breaks_is_read_whole(page, server):
    token = user_tokens(server, "wrapped-alice")["access_token"]
    page.open()
    paste(page, "\n".join(token[i:i + 60] for i in range(0, len(token), 60)))
    assert json.loads(page.page.input_value("#payload-json"))["username"] == "wrapped-alice"
    verdict(page, "ok")
