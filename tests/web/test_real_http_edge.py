"""The HTTP edge of a real ``jwtkit serve``, over raw sockets: request heads are capped
(431 or a closed connection for a 64 MB header line, 10,000 headers, or more than 100 fields)
while the server keeps answering other clients; the access log never records a query string;
and behind a real proxy hop ``--forwarded-allow-ips`` makes the server see the real client and
scheme, while a client that is not the proxy cannot spoof either."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from jwtkit.web.protocol import MAX_HEAD_BYTES, MAX_HEADER_FIELDS

from .conftest import PASSWORD
from .processes import Server, jwtkit_serve

pytestmark = pytest.mark.slow

PROXY_SOURCE = "127.0.0.2"  # the proxy's own address towards the server: the one to trust


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("edge") / "serve.log"
    with jwtkit_serve(log, "--database", "memory://", "--forwarded-allow-ips", PROXY_SOURCE) as running:
        yield running


def address(server: Server) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def exchange(target: tuple[str, int], request: bytes, *, source: str | None = None) -> bytes:
    """Send ``request`` on a fresh connection (from ``source``); everything the server answers."""
    with socket.socket() as sock:
        sock.settimeout(30)
        if source is not None:
            sock.bind((source, 0))
        sock.connect(target)
        sock.sendall(request)
        chunks = []
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)


def flood(target: tuple[str, int], head: bytes, filler: bytes, total: int) -> tuple[bytes, int]:
    """Send ``head`` then ``filler`` repeated up to ``total`` bytes, reading the answer meanwhile.
    Returns (what the server answered, bytes sent before it stopped reading)."""
    sock = socket.create_connection(target, timeout=30)
    sent = 0

    def send() -> None:
        nonlocal sent
        with contextlib.suppress(OSError):
            sock.sendall(head)
            while sent < total:
                sock.sendall(filler)
                sent += len(filler)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    answer = b""
    with contextlib.suppress(OSError):
        while chunk := sock.recv(65536):
            answer += chunk
    sock.close()
    sender.join(timeout=30)
    return answer, sent


def refused(answer: bytes) -> bool:
    """431, or the connection closed without an answer."""
    return answer == b"" or answer.startswith(b"HTTP/1.1 431 ")


def health(server: Server) -> int:
    return httpx.get(server.url + "/health", timeout=30).status_code


def test_a_64_mb_header_line_is_refused_and_others_are_still_served(server):
    results: dict[str, tuple[bytes, int]] = {}
    attack = threading.Thread(target=lambda: results.setdefault("flood", flood(
        address(server), b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ", b"a" * (1 << 20), 64 << 20)))
    attack.start()
    assert health(server) == 200  # another client, meanwhile
    attack.join(timeout=60)
    answer, sent = results["flood"]
    assert refused(answer), answer[:200]
    assert sent < 64 << 20  # the server stopped reading long before the end
    assert health(server) == 200


def test_ten_thousand_headers_are_refused(server):
    fields = b"".join(b"X-H%d: v\r\n" % i for i in range(10_000))
    answer = exchange(address(server), b"GET /health HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")
    assert refused(answer), answer[:200]
    assert health(server) == 200


def test_more_than_100_small_fields_are_431_by_their_count(server):
    fields = b"".join(b"X-H%d: v\r\n" % i for i in range(MAX_HEADER_FIELDS + 1))
    assert len(fields) < MAX_HEAD_BYTES
    answer = exchange(address(server), b"GET /health HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b'"error": "request_header_fields_too_large"' in answer


def test_a_request_line_over_the_cap_is_refused(server):
    answer = exchange(address(server), b"GET /health?" + b"a" * (MAX_HEAD_BYTES + 1) + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert refused(answer), answer[:200]


def test_a_request_over_the_cap_pipelined_behind_a_small_one_is_refused(server):
    # both in one packet: the byte count sees one head; the parser's field count sees the second
    fields = b"".join(b"X-H%d: v\r\n" % i for i in range(MAX_HEADER_FIELDS + 1))
    first = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    answer = exchange(address(server), first + b"GET /health HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")
    assert b"HTTP/1.1 431 " in answer
    assert health(server) == 200


def test_the_largest_legitimate_header_passes(server):
    # an Authorization header of the largest token we read (16 KiB), among ordinary browser headers
    token = "a" * (16 * 1024)
    response = httpx.get(server.url + "/auth/me", headers={"Authorization": f"Bearer {token}",
                                                          "Cookie": "x=" + "c" * 4000}, timeout=30)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_the_access_log_records_the_path_without_its_query(server):
    assert httpx.get(server.url + "/health?access_token=leaked-secret-123", timeout=30).status_code == 200
    log = server.log_text()
    assert "leaked-secret-123" not in log
    assert '"GET /health HTTP/1.1" 200' in log


# ---- behind a real proxy hop ------------------------------------------------------------------

class ForwardingProxy:
    """A one-request-per-connection HTTP proxy on 127.0.0.1, as nginx with
    ``proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for`` and ``X-Forwarded-Proto https``:
    it appends the address its client connected from, and reaches the server from ``PROXY_SOURCE``."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address: tuple[str, int] = self.listener.getsockname()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, (peer, _) = self.listener.accept()
                threading.Thread(target=self._serve, args=(client, peer), daemon=True).start()

    def _serve(self, client: socket.socket, peer: str) -> None:
        with client, socket.socket() as upstream:
            head = b""
            while b"\r\n\r\n" not in head:
                head += client.recv(65536)
            head, _, rest = head.partition(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            forwarded_for = [line.split(b":", 1)[1].strip() for line in lines[1:]
                             if line.lower().startswith(b"x-forwarded-for:")]
            ours = (b"x-forwarded-for:", b"x-forwarded-proto:")
            lines = [line for line in lines if not line.lower().startswith(ours)]
            chain = b", ".join([*forwarded_for, peer.encode()])
            lines += [b"X-Forwarded-For: " + chain, b"X-Forwarded-Proto: https"]
            upstream.bind((PROXY_SOURCE, 0))
            upstream.connect(self.upstream)
            upstream.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + rest)
            while chunk := upstream.recv(65536):
                client.sendall(chunk)


@pytest.fixture(scope="module")
def proxy(server: Server) -> Iterator[ForwardingProxy]:
    running = ForwardingProxy(address(server))
    yield running
    running.close()


def get(path: str, *, extra: bytes = b"") -> bytes:
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: auth.example\r\nConnection: close\r\n" + extra + b"\r\n"


def logged_client(server: Server, marker: str) -> str:
    """The client address of the access-log line of the request to ``/health?marker`` (the path is
    logged without its query, so the marker is a distinct path instead)."""
    lines = [line for line in server.log_text().splitlines() if f'"GET /{marker} HTTP/1.1"' in line]
    assert len(lines) == 1, lines
    return lines[0].split(" - ", 1)[0].rsplit(" ", 1)[-1].rsplit(":", 1)[0]


def test_the_startup_line_says_whose_proxy_headers_are_trusted(server):
    assert f"proxy headers trusted from {PROXY_SOURCE}" in server.log_text()


def test_through_the_trusted_proxy_the_server_sees_the_real_client(server, proxy):
    exchange(proxy.address, get("/through-proxy"), source="127.0.0.5")
    assert logged_client(server, "through-proxy") == "127.0.0.5"


def test_through_the_proxy_a_client_cannot_spoof_its_address(server, proxy):
    exchange(proxy.address, get("/spoof-via-proxy", extra=b"X-Forwarded-For: 203.0.113.9\r\n"), source="127.0.0.6")
    assert logged_client(server, "spoof-via-proxy") == "127.0.0.6"


def test_straight_to_the_server_a_client_cannot_spoof_its_address(server):
    exchange(address(server), get("/spoof-direct", extra=b"X-Forwarded-For: 203.0.113.9\r\n"
                                                            b"Forwarded: for=203.0.113.10;proto=https\r\n"))
    assert logged_client(server, "spoof-direct") == "127.0.0.1"


def login_request(*, extra: bytes = b"") -> bytes:
    body = f"username=alice&password={PASSWORD.replace(' ', '+')}".encode()
    head = (b"POST /session/login HTTP/1.1\r\nHost: auth.example\r\nConnection: close\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n" % len(body))
    return head + extra + b"\r\n" + body


@pytest.fixture(scope="module")
def alice(server: Server) -> None:
    response = httpx.post(server.url + "/auth/register", json={"username": "alice", "password": PASSWORD}, timeout=60)
    assert response.status_code == 201, response.text


def test_through_the_proxy_https_makes_the_session_cookie_secure(proxy, alice):
    answer = exchange(proxy.address, login_request())
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:300]
    cookie = [line for line in answer.split(b"\r\n") if line.lower().startswith(b"set-cookie: sessionid=")]
    assert b"; secure" in cookie[0].lower()


def test_straight_to_the_server_a_claimed_https_does_not(server, alice):
    answer = exchange(address(server), login_request(extra=b"X-Forwarded-Proto: https\r\n"))
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:300]
    cookie = [line for line in answer.split(b"\r\n") if line.lower().startswith(b"set-cookie: sessionid=")]
    assert b"secure" not in cookie[0].lower()


def test_a_cross_site_form_post_through_the_proxy_is_403_without_a_cookie(proxy, alice):
    answer = exchange(proxy.address, login_request(extra=b"Origin: https://evil.example\r\n"))
    assert answer.startswith(b"HTTP/1.1 403 "), answer[:300]
    assert b"set-cookie" not in answer.lower()


def test_the_same_origin_through_the_proxy_may_log_in(proxy, alice):
    answer = exchange(proxy.address, login_request(extra=b"Origin: https://auth.example\r\n"))
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:300]

