"""The API docs (`/docs`) in a real browser with no way out: Swagger UI renders from the server's own
files under the docs' Content-Security-Policy, asks nothing of any other host, and its "Authorize"
dialog offers the OAuth 2 password flow against our token endpoint."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.slow


def test_the_docs_render_from_the_server_alone_with_no_error_and_no_csp_violation(page):
    outside = []
    page.page.route(lambda url: urlsplit(url).netloc != urlsplit(page.base).netloc,
                    lambda route: (outside.append(route.request.url), route.abort()))
    page.page.goto(f"{page.base}/docs")
    page.page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)
    assert outside == []
    assert page.console_errors() == []
    assert page.errors == []
    assert page.failed == []
    assert page.csp_violations() == []
    assert page.page.locator(".opblock").count() >= 10  # every operation is listed


def test_the_docs_authorize_dialog_offers_the_password_flow(page):
    page.page.goto(f"{page.base}/docs")
    page.page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)
    page.page.click("button.authorize")
    dialog = page.page.locator(".modal-ux")
    dialog.wait_for()
    assert "password" in dialog.inner_text().lower()
    assert "/auth/token" in dialog.inner_text()
