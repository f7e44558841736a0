"""``/docs`` works offline: the page and every asset it loads come from this server,
nothing references another host, and every HTML answer carries a Content-Security-Policy that
allows only the server itself and forbids framing."""

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.anyio


@pytest.fixture
def backend():
    return "memory"


class References(HTMLParser):
    """Every ``src``/``href`` of the page, and whether it has inline script."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_script = False
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]
        self._in_script = tag == "script"
        if tag == "script" and not values.get("src"):
            self.inline_script = True

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_script = True


def local(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and url.startswith("/")


async def page(client):
    response = await client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    parser = References()
    parser.feed(response.text)
    return response, parser


async def test_the_docs_page_references_only_this_server(client):
    _, parser = await page(client)
    assert parser.urls
    assert [url for url in parser.urls if not local(url)] == []
    assert not parser.inline_script  # so that the CSP can say script-src 'self'


async def test_every_asset_of_the_docs_page_is_served_here(client):
    _, parser = await page(client)
    for url in [*parser.urls, "/docs/init.js"]:
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.content


async def test_the_stylesheet_loads_nothing_from_elsewhere(client):
    css = (await client.get("/docs/swagger-ui.css")).text
    urls = re.findall(r"url\(\s*['\"]?([^'\")]+)", css)
    assert [url for url in urls if not (url.startswith("data:") or local(url))] == []
    assert "@import" not in css


async def test_the_initializer_loads_the_schema_from_here_and_no_validator(client):
    script = (await client.get("/docs/init.js")).text
    assert 'url: "/openapi.json"' in script
    assert "validatorUrl: null" in script
    assert "http" not in script
    assert (await client.get("/openapi.json")).status_code == 200


async def test_the_docs_page_has_a_csp_that_forbids_framing_and_foreign_sources(client):
    response, _ = await page(client)
    csp = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["frame-ancestors"] == "'none'"
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert all("http" not in value and "*" not in value for value in directives.values())
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


async def test_json_answers_are_nosniff_without_a_page_policy(client):
    response = await client.get("/health")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in response.headers


async def test_no_other_docs_page_loads_from_a_cdn(client):
    assert (await client.get("/redoc")).status_code == 404
    assert (await client.get("/docs/oauth2-redirect")).status_code == 404


async def test_an_unknown_docs_file_is_a_json_404(client):
    response = await client.get("/docs/../../etc/passwd")
    assert response.status_code == 404
    response = await client.get("/docs/index.html")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
