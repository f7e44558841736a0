"""The page under its own Content-Security-Policy in a real browser: it loads and runs with no console
error, no failed or blocked request and no CSP violation; and the policy really holds (an injected inline
script does not run, an inline style attribute is not applied). Phone-sized and keyboard-usable, too."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_the_page_loads_and_runs_with_no_console_error_no_failed_request_and_no_csp_violation(page):
    page.open()
    page.page.click("#sample")
    page.page.wait_for_selector("#verdict[data-state=ok]")
    page.page.check("input[name=key-source][value=jwks]")
    page.page.wait_for_selector("#verdict[data-state=bad]")  # the sample's key is not the server's
    page.page.click("#lang")
    page.page.click("#lang")
    assert page.console_errors() == []
    assert page.errors == []
    assert page.failed == []
    assert [(status, url) for status, url in page.responses if status >= 400] == []
    assert page.csp_violations() == []
    loaded = {url.removeprefix(page.base) for _, url in page.responses}
    assert {"/", "/ui/main.js", "/ui/base.css", "/ui/icon.svg", "/.well-known/jwks.json"} <= loaded


def test_an_injected_inline_script_does_not_run(page):
    page.open()
    ran = page.page.evaluate("""() => {
        const script = document.createElement('script');
        try { script.text = 'window.__injected = true'; } catch (error) { return 'refused: ' + error.name; }
        document.body.append(script);
        return window.__injected === true ? 'ran' : 'blocked';
    }""")
    assert ran != "ran"


def test_an_inline_style_attribute_is_not_applied(page):
    page.open()
    width = page.page.evaluate("""() => {
        const box = document.createElement('div');
        box.setAttribute('style', 'width: 123px');
        document.body.append(box);
        return getComputedStyle(box).width;
    }""")
    assert width != "123px"
    assert any("style-src" in violation for violation in page.csp_violations())


def test_on_a_phone_the_page_fits_its_width(page):
    page.page.set_viewport_size({"width": 390, "height": 844})
    page.open()
    page.page.click("#sample")
    page.page.wait_for_selector("#verdict[data-state=ok]")
    overflow = page.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0


def test_the_debugger_and_the_flow_are_reachable_by_keyboard(page):
    page.open()
    page.page.keyboard.press("Tab")
    assert page.page.evaluate("document.activeElement.className") == "skip"
    page.page.keyboard.press("Enter")
    focusable = []
    for _ in range(40):
        page.page.keyboard.press("Tab")
        focusable.append(page.page.evaluate("document.activeElement.id || document.activeElement.tagName"))
    for wanted in ("sample", "token", "header-json", "payload-json", "username", "register", "jwt-login"):
        assert wanted in focusable


@pytest.mark.parametrize(("scheme", "dark"), [("light", False), ("dark", True)])
def test_the_colours_follow_the_system_s_light_or_dark_scheme(page, scheme, dark):
    page.page.emulate_media(color_scheme=scheme)
    page.open()
    red, green, blue = page.page.evaluate(
        "getComputedStyle(document.body).backgroundColor.match(/\\d+/g).slice(0, 3).map(Number)")
    assert (red + green + blue < 3 * 128) is dark
