"""The seed's flow, live, in a real browser against a real ``jwtkit serve``: register → log in → /auth/me →
refresh (rotation) → the old refresh token again (reuse detected, the family revoked) → log out (the access
token refused at once); the session mode with its HttpOnly cookie; the JWT-vs-session figures."""

from __future__ import annotations

import re

import pytest

import jwtkit

from .conftest import screenshot

pytestmark = pytest.mark.slow


def click(page, button: str, entries: int, log: str = "#jwt-log") -> list[str]:
    """Click ``button``; wait until the transcript ``log`` has ``entries`` exchanges; their statuses, oldest first."""
    page.page.click(button)
    # a locator, not wait_for_function: the page's CSP refuses to evaluate a string of JavaScript
    page.page.locator(f"{log} > li").nth(entries - 1).wait_for(timeout=15_000)
    statuses = page.page.eval_on_selector_all(f"{log} > li", "items => items.map((li) => li.dataset.status)")
    return list(reversed(statuses))


def newest(page, log: str = "#jwt-log") -> str:
    text: str = page.page.inner_text(f"{log} > li:first-child")
    return text


def card_status(page, kind: str) -> str | None:
    status: str | None = page.page.get_attribute(f".token-card[data-kind={kind}]", "data-status")
    return status


def test_the_whole_flow_register_me_refresh_reuse_revoked_login_logout(page, server):
    page.open()
    page.page.fill("#username", "flow-alice")
    assert click(page, "#register", 1) == ["201"]
    assert click(page, "#jwt-login", 2)[-1] == "200"
    assert card_status(page, "access") == "live"
    assert re.search(r"expires in (4 min \d+ s|5 min)", page.page.inner_text(".token-card[data-kind=access]"))
    first = page.page.evaluate("import('/ui/flow.js').then((m) => m.liveAccessToken())")

    assert click(page, "#jwt-me", 3)[-1] == "200"
    me = newest(page)
    assert "GET /auth/me HTTP/1.1" in me
    assert "Authorization: Bearer eyJ" in me
    assert '"username": "flow-alice"' in me
    me_requests = [r for r in page.requests if r.url.endswith("/auth/me")]
    assert me_requests[-1].headers["authorization"] == f"Bearer {first}"

    assert click(page, "#jwt-refresh", 4)[-1] == "200"
    assert "Rotation" in newest(page)
    assert card_status(page, "spent") == "spent"
    assert page.page.evaluate("import('/ui/flow.js').then((m) => m.liveAccessToken())") != first
    page.page.click("#session-login")
    page.page.wait_for_selector("#session-log > li[data-status='200']")
    screenshot(page, "flow", selector="#flow")

    statuses = click(page, "#jwt-reuse", 6)
    assert statuses[-2:] == ["401", "401"]  # the spent token refused, then the newest access token too
    assert "Reuse detected" in page.page.inner_text("#jwt-log > li:nth-child(2)")
    assert "family was revoked" in newest(page)
    assert {card_status(page, kind) for kind in ("access", "refresh", "spent")} == {"revoked"}

    assert click(page, "#jwt-login", 7)[-1] == "200"
    assert page.page.locator(".token-card[data-kind=spent]").count() == 0
    statuses = click(page, "#jwt-logout", 9)
    assert statuses[-2:] == ["204", "401"]  # logged out, and the unexpired access token refused at once
    assert "Refused (401) at once" in newest(page)
    assert page.console_errors(expected_statuses=(401,)) == []
    assert page.errors == []
    assert page.csp_violations() == []


def open_in_the_debugger(page, username: str, kind: str) -> str:
    """Register ``username``, log in, open the pair's ``kind`` token in the debugger; the token."""
    page.open()
    page.page.fill("#username", username)
    click(page, "#register", 1)
    click(page, "#jwt-login", 2)
    page.page.click(f".token-card[data-kind={kind}] button")
    token: str = page.page.input_value("#token")
    return token


def test_the_flow_s_access_token_opens_in_the_debugger_and_verifies_with_the_jwks(page):
    token = open_in_the_debugger(page, "open-alice", "access")
    assert jwtkit.decode_unverified(token)[1]["token_type"] == "access"
    page.page.wait_for_selector("#verdict[data-state=ok]")


def test_the_flow_s_refresh_token_opens_in_the_debugger_as_checkable_by_this_server_only(page):
    header, claims = jwtkit.decode_unverified(open_in_the_debugger(page, "open-bob", "refresh"))
    assert (header["alg"], claims["token_type"]) == ("HS256", "refresh")
    page.page.wait_for_selector("#verdict[data-state=idle]")
    assert "only this server holds" in page.page.inner_text("#verdict")


def test_the_session_mode_logs_in_with_an_httponly_cookie_the_page_cannot_read(page):
    page.open()
    page.page.fill("#username", "session-alice")
    click(page, "#register", 1)
    assert click(page, "#session-login", 1, "#session-log") == ["200"]
    assert page.page.evaluate("document.cookie") == ""
    cookies = page.page.context.cookies()
    assert ("sessionid", True) in [(c["name"], c["httpOnly"]) for c in cookies]
    assert all(c["httpOnly"] for c in cookies)  # the login's device cookie too
    assert click(page, "#session-me", 2, "#session-log")[-1] == "200"
    assert "Cookie: sessionid=" in newest(page, "#session-log")
    assert click(page, "#session-logout", 4, "#session-log")[-2:] == ["204", "401"]
    assert "the browser keeps it" not in newest(page, "#session-log")


def test_the_figures_panel_measures_jwt_and_session_from_the_browser(page):
    page.open()
    page.page.fill("#username", "figures-alice")
    click(page, "#register", 1)
    page.page.click("#measure")
    assert "Log in on both sides first" in page.page.inner_text("#measure-status")
    click(page, "#jwt-login", 2)
    click(page, "#session-login", 1, "#session-log")
    page.page.click("#measure")
    page.page.wait_for_selector("#figures-table:not([hidden])", timeout=30_000)
    rows = page.page.eval_on_selector_all("#figures-table tbody tr", "rows => rows.map((r) => r.dataset.path)")
    assert rows == ["/health", "/auth/me", "/session/me"]
    assert "/auth/me served" in page.page.inner_text("#measure-status")
    assert page.sent(page.page.evaluate("import('/ui/flow.js').then((m) => m.liveAccessToken())"))


def test_a_throttled_login_says_how_long_to_wait(page):
    page.open()
    page.page.fill("#username", "throttled-alice")
    click(page, "#register", 1)
    page.page.fill("#password", "not the password")
    statuses = []
    for attempt in range(1, 8):
        statuses = click(page, "#jwt-login", attempt + 1)
        if statuses[-1] == "429":
            break
    assert statuses[-1] == "429"
    assert "Wrong username or password" in page.page.inner_text("#jwt-log > li:nth-child(2)")
    assert "asks to wait" in newest(page)
