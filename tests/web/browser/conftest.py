"""Headless Chromium driven by Playwright against a real ``jwtkit serve``.

The browser is Debian's ``chromium`` (Playwright's own download is not needed): ``$CHROMIUM``, else
``chromium`` on the PATH. Without it (or without the ``playwright`` package) these tests skip, except
under ``CI=true``, where they fail. One server and one browser per module; a fresh browser context
(no cookies, no storage) per test. ``page`` records what the tests assert on: console messages, page
errors, failed requests, every request the page made, and CSP violations.

``UI_SCREENSHOTS=docs/screenshots`` makes the screenshot-taking tests write their PNGs there.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from web.conftest import sign_up
from web.processes import Server, jwtkit_serve

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Set before any page script runs (CDP, outside the page's CSP): every violation the page would report.
WATCH_CSP = ("window.__cspViolations = [];"
             "document.addEventListener('securitypolicyviolation',"
             " (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"the browser tests need {reason}, and CI is set")
    pytest.skip(f"the browser tests need {reason}")


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package (pip install -e '.[dev]')")
    executable = chromium_path()
    if executable is None:
        _unavailable("Chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("page-server")
    with jwtkit_serve(workdir / "server.log", "--database", f"sqlite:///{workdir / 'auth.sqlite3'}",
                      "--no-access-log") as server:
        yield server


@dataclass
class Watched:
    """A page and what it did."""

    page: Any
    base: str
    console: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    requests: list[Any] = field(default_factory=list)
    responses: list[tuple[int, str]] = field(default_factory=list)

    def open(self, query: str = "") -> None:
        self.page.goto(f"{self.base}/{query}")
        self.page.wait_for_selector("body[data-ready=true]")

    def console_errors(self, *, expected_statuses: tuple[int, ...] = ()) -> list[str]:
        """Console errors, less Chromium's "Failed to load resource: ... status of N" for statuses the test caused."""
        return [text for kind, text in self.console if kind == "error"
                and not any(f"status of {status} " in text for status in expected_statuses)]

    def csp_violations(self) -> list[str]:
        violations: list[str] = self.page.evaluate("window.__cspViolations")
        return violations

    def sent(self, secret: str) -> list[str]:
        """The requests whose URL, headers or body contain ``secret``."""
        found = []
        for request in self.requests:
            carried = [request.url, *request.headers.values(), request.post_data or ""]
            if any(secret in part for part in carried):
                found.append(f"{request.method} {request.url}")
        return found


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US", color_scheme="light")
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    watched = Watched(page, server.url)
    page.on("console", lambda message: watched.console.append((message.type, message.text)))
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    page.on("requestfailed", lambda request: watched.failed.append(f"{request.url} {request.failure}"))
    page.on("request", lambda request: watched.requests.append(request))
    page.on("response", lambda response: watched.responses.append((response.status, response.url)))
    try:
        yield watched
    finally:
        context.close()


def user_tokens(server: Server, username: str) -> dict[str, Any]:
    """Register ``username`` on ``server`` and log in: the token pair (from the test, not the page)."""
    return sign_up(server.url, username, timeout=10)


def screenshot(watched: Watched, name: str, *, selector: str | None = None) -> None:
    """Save a screenshot as ``$UI_SCREENSHOTS/<name>.png`` when that variable is set (the README's pictures)."""
    directory = os.environ.get("UI_SCREENSHOTS")
    if not directory:
        return
    path = Path(directory) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    watched.page.evaluate("document.activeElement && document.activeElement.blur()")  # no focus ring in pictures
    target = watched.page.locator(selector) if selector else watched.page
    target.screenshot(path=str(path), animations="disabled")
