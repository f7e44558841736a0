"""What browsers may do: the session cookie's ``Secure`` flag (``--cookie-secure``),
login CSRF refused on the cookie endpoints (``Origin``/``Sec-Fetch-Site``), CORS for listed
origins only, and the security headers of HTML answers."""

import pytest

from jwtkit.web import create_app

from .conftest import PASSWORD, register, serve

pytestmark = pytest.mark.anyio

CREDENTIALS = {"username": "alice", "password": PASSWORD}
FORM = {"username": "alice", "password": PASSWORD}


@pytest.fixture
def backend():
    return "memory"


@pytest.fixture
def browser_app(service_factory, request):
    options = getattr(request, "param", {})
    return create_app(service_factory, maintenance_interval=None, **options)


@pytest.fixture
async def browser(browser_app):
    async with serve(browser_app, base_url="https://auth.example") as client:
        await register(client)
        yield client


# ---- the Secure flag --------------------------------------------------------------------------

@pytest.mark.parametrize(("base_url", "mode", "secure"), [
    ("https://auth.example", "auto", True),
    ("http://auth.example", "auto", False),
    ("http://auth.example", "always", True),
    ("https://auth.example", "never", False),
])
async def test_the_session_cookie_is_secure_as_cookie_secure_says(service_factory, base_url, mode, secure):
    app = create_app(service_factory, maintenance_interval=None, cookie_secure=mode)
    async with serve(app, base_url=base_url) as client:
        await register(client)
        response = await client.post("/session/login", json=CREDENTIALS)
    assert response.status_code == 200
    assert ("; secure" in response.headers["set-cookie"].lower()) is secure


def test_an_unknown_cookie_secure_mode_is_refused(service_factory):
    with pytest.raises(ValueError, match="cookie_secure"):
        create_app(service_factory, cookie_secure="sometimes")


# ---- login CSRF -------------------------------------------------------------------------------

async def test_a_cross_site_form_post_to_session_login_is_403_without_a_cookie(browser):
    response = await browser.post("/session/login", data=FORM, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert response.json()["error"] == "cross_site_request"
    assert "set-cookie" not in response.headers


async def test_a_cross_site_fetch_without_origin_is_refused_by_sec_fetch_site(browser):
    response = await browser.post("/session/login", data=FORM, headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


async def test_an_opaque_origin_is_refused(browser):
    response = await browser.post("/session/login", data=FORM, headers={"Origin": "null"})
    assert response.status_code == 403


async def test_the_same_origin_may_log_in(browser):
    response = await browser.post("/session/login", data=FORM,
                                  headers={"Origin": "https://auth.example", "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 200
    assert "sessionid=" in response.headers["set-cookie"]


async def test_the_same_origin_with_its_default_port_spelled_out_may_log_in(browser):
    response = await browser.post("/session/login", data=FORM, headers={"Origin": "https://auth.example:443"})
    assert response.status_code == 200


async def test_the_same_host_over_another_scheme_is_another_origin(browser):
    response = await browser.post("/session/login", data=FORM, headers={"Origin": "http://auth.example"})
    assert response.status_code == 403


async def test_a_client_that_is_not_a_browser_sends_neither_header_and_may_log_in(browser):
    response = await browser.post("/session/login", json=CREDENTIALS)
    assert response.status_code == 200


async def test_a_cross_site_logout_is_refused_and_the_session_lives_on(browser):
    assert (await browser.post("/session/login", json=CREDENTIALS)).status_code == 200
    response = await browser.post("/session/logout", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert (await browser.get("/session/me")).status_code == 200


@pytest.mark.parametrize("browser_app", [{"cors_origins": ["https://app.example"]}], indirect=True)
async def test_a_listed_cors_origin_may_log_in(browser):
    response = await browser.post("/session/login", data=FORM, headers={"Origin": "https://app.example"})
    assert response.status_code == 200


async def test_the_bearer_endpoints_are_not_cookie_endpoints(browser):
    # their answers carry tokens a cross-site page cannot read; no cookie is set
    response = await browser.post("/auth/token", data=FORM, headers={"Origin": "https://evil.example"})
    assert response.status_code == 200
    assert "set-cookie" not in response.headers


# ---- CORS -------------------------------------------------------------------------------------

async def test_cors_is_off_by_default(browser):
    response = await browser.options("/auth/token", headers={"Origin": "https://app.example",
                                                             "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in response.headers
    response = await browser.get("/health", headers={"Origin": "https://app.example"})
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("browser_app", [{"cors_origins": ["https://app.example"]}], indirect=True)
async def test_a_listed_origin_gets_a_preflight_with_credentials(browser):
    response = await browser.options("/auth/me", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    })
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


@pytest.mark.parametrize("browser_app", [{"cors_origins": ["https://app.example"]}], indirect=True)
async def test_a_listed_origin_may_read_answers_with_credentials(browser):
    response = await browser.get("/health", headers={"Origin": "https://app.example"})
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    assert response.headers["access-control-allow-credentials"] == "true"


@pytest.mark.parametrize("browser_app", [{"cors_origins": ["https://app.example"]}], indirect=True)
async def test_an_unlisted_origin_gets_no_cors_grant(browser):
    response = await browser.options("/auth/me", headers={"Origin": "https://evil.example",
                                                          "Access-Control-Request-Method": "GET"})
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
    response = await browser.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("browser_app", [{"cors_origins": ["HTTPS://App.Example:443/"]}], indirect=True)
async def test_a_listed_origin_is_matched_as_browsers_spell_it(browser):
    response = await browser.get("/health", headers={"Origin": "https://app.example"})
    assert response.headers["access-control-allow-origin"] == "https://app.example"


def test_a_cors_origin_with_a_path_is_refused(service_factory):
    with pytest.raises(ValueError, match="CORS origin"):
        create_app(service_factory, cors_origins=["https://app.example/login"])
