"""The page at ``/`` as the server ships it, without a browser: served from the package with a
strict Content-Security-Policy, only its own files, no inline script or style, nothing that writes HTML
from strings or keeps a token in web storage; and gone with ``ui=False`` / ``jwtkit serve --no-ui``.
What it does in a browser is tested in ``test_page_browser.py``."""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import httpx
import pytest

from jwtkit.web import create_app
from jwtkit.web.headers import CONTENT_SECURITY_POLICY as DOCS_POLICY
from jwtkit.web.page import CONTENT_SECURITY_POLICY

from .conftest import serve
from .processes import jwtkit_serve

ROOT = Path(__file__).resolve().parents[2]
STATIC = resources.files("jwtkit.web").joinpath("static")
STATIC_FILES = sorted(entry.name for entry in STATIC.iterdir() if entry.is_file())
SCRIPTS = [name for name in STATIC_FILES if name.endswith(".js")]

pytestmark = pytest.mark.anyio


@pytest.fixture
def backend() -> str:
    return "memory"  # the page does not depend on storage


class Page(HTMLParser):
    """The tags and attributes of the page, to check what it loads."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts.append(data)


def parsed_page() -> Page:
    page = Page()
    page.feed(STATIC.joinpath("index.html").read_text(encoding="utf-8"))
    return page


async def test_the_root_answers_the_page_with_a_strict_csp_nosniff_and_no_referrer(client):
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    csp = response.headers["content-security-policy"]
    assert csp == CONTENT_SECURITY_POLICY
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'",
                      "object-src 'none'", "frame-ancestors 'none'", "require-trusted-types-for 'script'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "<h1>jwtkit</h1>" in response.text


def test_the_page_has_no_inline_script_style_or_event_handler():
    page = parsed_page()
    assert page.inline_scripts == []
    assert [tag for tag, _ in page.tags if tag == "style"] == []
    for tag, attrs in page.tags:
        assert "style" not in attrs, tag
        assert not [name for name in attrs if name.startswith("on")], tag
        if tag == "script":
            assert attrs["type"] == "module"
            assert (attrs["src"] or "").startswith("/ui/")


def test_the_page_loads_only_files_of_its_own_origin():
    for tag, attrs in parsed_page().tags:
        for name in ("src", "href"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith(("/ui/", "#", "/docs")), (tag, value)


async def test_every_file_the_page_references_is_served_with_its_type_and_the_headers(client):
    referenced = {attrs.get("src") or attrs.get("href") for tag, attrs in parsed_page().tags
                  if tag in ("script", "link", "img")}
    for path in sorted(p for p in referenced if p):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        expected = {"js": "text/javascript", "css": "text/css", "svg": "image/svg+xml"}[path.rsplit(".", 1)[1]]
        assert response.headers["content-type"].startswith(expected), path


async def test_every_module_a_script_imports_is_served(client):
    for name in SCRIPTS:
        for imported in re.findall(r'from "\./([\w-]+\.js)"', STATIC.joinpath(name).read_text(encoding="utf-8")):
            assert imported in STATIC_FILES, (name, imported)
            assert (await client.get(f"/ui/{imported}")).status_code == 200


@pytest.mark.parametrize("path", ["/ui/nope.js", "/ui/..%2Fpage.py", "/ui/../page.py", "/ui/index.html", "/ui/"])
async def test_anything_but_the_page_s_files_is_a_json_404(client, path):
    response = await client.get(path)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_an_unchanged_file_is_answered_304_to_its_etag(client):
    first = await client.get("/ui/main.js")
    again = await client.get("/ui/main.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


async def test_the_api_s_own_answers_get_no_page_policy(client):
    # the page's CSP is the page's: JSON answers get none, the API docs get the docs' own
    assert "content-security-policy" not in (await client.get("/health")).headers
    assert (await client.get("/docs")).headers["content-security-policy"] == DOCS_POLICY


async def test_with_ui_off_the_root_and_the_files_are_404_and_the_api_still_answers(service_factory):
    async with serve(create_app(service_factory, maintenance_interval=None, ui=False)) as client:
        assert (await client.get("/")).status_code == 404
        assert (await client.get("/ui/main.js")).status_code == 404
        assert (await client.get("/health")).status_code == 200


@pytest.mark.parametrize("name", SCRIPTS)
def test_no_script_writes_html_from_strings_or_uses_web_storage_or_eval(name):
    source = STATIC.joinpath(name).read_text(encoding="utf-8")
    for banned in ("localStorage", "sessionStorage", "indexedDB", "document.cookie", "innerHTML", "outerHTML",
                   "insertAdjacentHTML", "document.write", "eval(", "new Function", "setAttribute(\"style\""):
        assert banned not in source, (name, banned)
    assert not re.search(r"\bhttps?://", source), name  # no other origin


@pytest.mark.parametrize("name", STATIC_FILES)
def test_every_static_file_stays_under_400_lines(name):
    assert len(STATIC.joinpath(name).read_text(encoding="utf-8").splitlines()) <= 400


def test_the_package_data_ships_every_static_file():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["jwtkit"]
    for name in STATIC_FILES:
        assert any(fnmatch(f"web/static/{name}", pattern) for pattern in patterns), name


@pytest.mark.slow
def test_jwtkit_serve_no_ui_answers_404_at_the_root(tmp_path):
    with jwtkit_serve(tmp_path / "server.log", "--database", "memory://", "--no-ui") as server:
        assert httpx.get(server.url + "/", timeout=10).status_code == 404
        assert httpx.get(server.url + "/health", timeout=10).status_code == 200
    with jwtkit_serve(tmp_path / "server.log", "--database", "memory://") as server:
        page = httpx.get(server.url + "/", timeout=10)
        assert page.status_code == 200
        assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


async def test_head_of_the_page_answers_its_headers_without_a_body(client):
    response = await client.head("/")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.content == b""
