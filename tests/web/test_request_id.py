"""``X-Request-ID``: a sane incoming id is kept and echoed, anything else is replaced by a fresh one;
log lines written while a request runs carry it (and the user id once a login knows it)."""

from __future__ import annotations

import asyncio
import json
import logging
import re

import pytest

from jwtkit.auth.service import AuthService
from jwtkit.storage.memory import open_memory_stores
from jwtkit.web import create_app
from jwtkit.web.event_log import LoggedEvents
from jwtkit.web.request_id import MAX_REQUEST_ID_LENGTH, LogContext, _context, current_context, request_id_of
from jwtkit.wiring.log_format import JsonFormatter, log_config, redact

from .conftest import PASSWORD, bearer, register, serve

pytestmark = pytest.mark.anyio
BACKENDS_HERE = ["memory"]  # HTTP behaviour only: no storage involved

FRESH = re.compile(r"[0-9a-f]{32}")


async def test_every_response_has_a_fresh_request_id(client):
    first = (await client.get("/health")).headers["x-request-id"]
    second = (await client.get("/no-such-page")).headers["x-request-id"]
    assert FRESH.fullmatch(first)
    assert FRESH.fullmatch(second)
    assert first != second


@pytest.mark.parametrize("incoming", ["abc-123", "3f2b9c1e-8d4a-4e7b-9b1a-2c3d4e5f6a7b", "lb01:4711.x_y",
                                      "a" * MAX_REQUEST_ID_LENGTH])
async def test_a_sane_incoming_id_is_kept(client, incoming):
    response = await client.get("/health", headers={"X-Request-ID": incoming})
    assert response.headers.get_list("x-request-id") == [incoming]


@pytest.mark.parametrize("incoming", ["", "a" * (MAX_REQUEST_ID_LENGTH + 1), "two words", 'x"}, {"level": "ERROR',
                                      "a\tb", "é"])
def test_an_insane_incoming_id_is_replaced(incoming):
    replaced = request_id_of([(b"x-request-id", incoming.encode())])
    assert FRESH.fullmatch(replaced)


async def test_an_error_response_has_the_id_too(client):
    response = await client.get("/auth/me", headers={**bearer("junk"), "X-Request-ID": "req-1"})
    assert response.status_code == 401
    assert response.headers["x-request-id"] == "req-1"


async def test_no_context_outlives_its_request(client):
    await client.get("/health")
    assert current_context() is None


def record(message: str, *args: object, name: str = "jwtkit.test", exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError(message)
        except ValueError:
            import sys

            exc_info = sys.exc_info()
    return logging.LogRecord(name, logging.INFO, __file__, 1, message, args, exc_info)


def test_the_json_formatter_writes_one_object_per_line_with_the_fields():
    import json

    line = JsonFormatter().format(record("login %s", "ok"))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "INFO"
    assert entry["logger"] == "jwtkit.test"
    assert entry["event"] == "login ok"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["time"])
    assert "request_id" not in entry
    assert "user_id" not in entry


def test_anything_shaped_like_a_jwt_is_redacted_in_messages_and_tracebacks():
    token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    line = JsonFormatter().format(record(f"odd input {token} here", exc=True))
    assert token not in line
    assert "eyJzdWIiOiIxIn0" not in line
    assert "[redacted]" in line
    assert redact("nothing to see") == "nothing to see"


def test_json_log_config_sends_uvicorn_and_the_root_logger_through_the_formatter():
    config = log_config("json")
    assert config["formatters"]["default"]["()"].endswith("JsonFormatter")
    assert config["formatters"]["access"]["()"].endswith("JsonFormatter")
    assert config["root"]["handlers"] == ["default"]
    assert "path_only" in config["handlers"]["access"]["filters"]  # still no query strings
    assert "root" not in log_config("text")


class JsonLines(logging.Handler):
    """Formats each record with the JSON formatter as it is emitted (inside the request, as in production)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def event_lines():
    """The JSON lines the ``jwtkit.events`` logger writes during the test (at INFO)."""
    handler = JsonLines()
    logger = logging.getLogger("jwtkit.events")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(previous)


async def test_event_lines_carry_the_request_id_and_the_user(settings, clock, event_lines):
    async def factory() -> AuthService:
        return await AuthService.open(settings, open_memory_stores(), clock=clock, events=LoggedEvents())

    async with serve(create_app(factory, maintenance_interval=None)) as client:
        await register(client)
        response = await client.post("/auth/token", json={"username": "alice", "password": PASSWORD},
                                     headers={"X-Request-ID": "login-1"})
        assert response.status_code == 200
        await client.post("/auth/token", json={"username": "alice", "password": "wrong"},
                          headers={"X-Request-ID": "login-2"})
        await asyncio.sleep(0)  # event lines are written on the loop's next turn, after the answer

    entries = [json.loads(line) for line in event_lines]
    assert entries[0]["event"] == "login ok (user 1)"
    assert entries[0]["request_id"] == "login-1"
    assert entries[0]["user_id"] == 1
    assert entries[1]["event"] == "login failed"
    assert entries[1]["request_id"] == "login-2"
    assert "user_id" not in entries[1]


async def test_an_event_line_is_written_on_the_loop_s_next_turn_in_the_request_s_context(event_lines):
    token = _context.set(LogContext("req-7"))
    LoggedEvents().refresh("ok", 7)
    written_at_once = list(event_lines)
    _context.reset(token)  # the request is over before the loop turns
    await asyncio.sleep(0)

    assert written_at_once == []
    (line,) = [json.loads(text) for text in event_lines]
    assert (line["event"], line["request_id"], line["user_id"]) == ("refresh ok (user 7)", "req-7", 7)


def test_an_event_line_outside_an_event_loop_is_written_at_once(event_lines):
    LoggedEvents().login("failed", None)

    assert [json.loads(text)["event"] for text in event_lines] == ["login failed"]
