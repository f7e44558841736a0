"""``jwtkit decode --jwks URL``: verify against a live server's key set, fetched carefully
(https or loopback http only, no redirects, a size cap). The server is a loopback http.server."""

import http.server
import json
import subprocess
import sys
import threading
from typing import ClassVar

import pytest

import jwtkit
from jwtkit.cli import remote_jwks


class JWKSHandler(http.server.BaseHTTPRequestHandler):
    routes: ClassVar[dict] = {}

    def do_GET(self):
        status, headers, body = self.routes.get(self.path, (404, {}, b"{}"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(es256_key):
    routes = {
        "/jwks.json": (200, {"Content-Type": "application/json"},
                       json.dumps(jwtkit.KeySet([es256_key.public_key()]).to_jwks()).encode()),
        "/moved": (302, {"Location": "/jwks.json"}, b""),
        "/huge": (200, {}, b'{"keys": [' + b" " * (remote_jwks.MAX_JWKS_SIZE + 10) + b"]}"),
        "/not-jwks": (200, {}, b'{"hello": "world"}'),
    }
    handler = type("Handler", (JWKSHandler,), {"routes": routes})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def token(key, **claims):
    return jwtkit.encode({"sub": "42", **claims}, key)


def test_a_token_verifies_against_the_key_set_of_a_live_server(cli, server, es256_key):
    result = cli("decode", token(es256_key), "--jwks", f"{server}/jwks.json")

    assert result.code == 0, result.err
    assert result.out.endswith("signature: valid (ES256, kid es-1)\n")


def test_a_token_of_another_key_is_invalid_against_the_live_key_set(cli, server):
    result = cli("decode", token(jwtkit.Key.generate("ES256", kid="es-1")), "--jwks", f"{server}/jwks.json")

    assert result.code == 1
    assert result.err.startswith("error: ")


def test_a_redirect_is_not_followed(cli, server, es256_key):
    result = cli("decode", token(es256_key), "--jwks", f"{server}/moved")

    assert result.code == 2
    assert "HTTP 302 redirect" in result.err
    assert "not followed" in result.err


def test_a_key_set_over_the_size_cap_is_refused(cli, server, es256_key):
    result = cli("decode", token(es256_key), "--jwks", f"{server}/huge")

    assert result.code == 2
    assert "larger than" in result.err


@pytest.mark.parametrize(("path", "fragment"), [("/not-jwks", "not a usable JWK Set"),
                                                ("/missing", "HTTP 404")])
def test_an_answer_that_is_not_a_key_set_is_a_usage_error(cli, server, es256_key, path, fragment):
    result = cli("decode", token(es256_key), "--jwks", server + path)

    assert result.code == 2
    assert fragment in result.err


@pytest.mark.parametrize("url", ["http://auth.example/.well-known/jwks.json", "file:///etc/passwd",
                                 "ftp://127.0.0.1/jwks.json", "jwks.json"])
def test_only_https_or_loopback_http_urls_are_fetched(cli, es256_key, url):
    result = cli("decode", token(es256_key), "--jwks", url)

    assert result.code == 2
    assert "https" in result.err


def test_an_unreachable_server_is_a_usage_error(cli, es256_key):
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = cli("decode", token(es256_key), "--jwks", f"http://127.0.0.1:{port}/jwks.json")

    assert result.code == 2
    assert "cannot fetch the JWKS" in result.err


def test_key_and_jwks_together_are_a_usage_error(cli, es256_key, verify_jwk):
    result = cli("decode", token(es256_key), "--key", str(verify_jwk), "--jwks", "https://auth.example/jwks")

    assert result.code == 2


def test_a_failed_fetch_is_reported_in_one_line_on_stderr(server, es256_key):
    # a real process: no test harness handler catches the JWKS client's warning there
    result = subprocess.run([sys.executable, "-m", "jwtkit", "decode", token(es256_key), "--jwks", server + "/missing"],
                            capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
