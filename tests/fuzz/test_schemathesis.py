"""Schema-driven HTTP testing: schemathesis generates requests from our own OpenAPI document.

Every operation of ``/openapi.json`` gets requests built from its declared parameters and bodies
(valid and, with schemathesis' negative mode, invalid ones), sent through the ASGI app on the
in-memory backend (``http_target.HttpTarget``: one app, its lifespan entered once). Two checks
per response: no 5xx (``not_a_server_error``) and the body conforms to the schema declared for
its status (``response_schema_conformance``). A status the document does not declare is not
checked here (``status_code_conformance`` is left out while the error declarations are being
rewritten); ``JWTKIT_SCHEMA_EXAMPLES`` sets the examples per operation (default 25).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from http_target import HttpTarget
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("JWTKIT_SCHEMA_EXAMPLES", "25"))
_TARGET: HttpTarget | None = None


def target() -> HttpTarget:
    global _TARGET
    if _TARGET is None:
        _TARGET = HttpTarget()
    return _TARGET


@pytest.fixture(scope="module", autouse=True)
def _close() -> Iterator[None]:
    yield
    global _TARGET
    if _TARGET is not None:
        _TARGET.close()
        _TARGET = None


schema = schemathesis.openapi.from_asgi("/openapi.json", target().app)


def send(case: Any) -> Any:
    """The case through our own client (lifespan entered once), not a TestClient per call."""
    fuzz = target()
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    content = kwargs.pop("data", None)
    if isinstance(content, dict):
        kwargs["data"] = content
    elif content is not None:
        kwargs["content"] = content
    kwargs.pop("timeout", None)
    kwargs.pop("allow_redirects", None)

    cookies = kwargs.pop("cookies", None) or {}

    async def request() -> Any:
        fuzz.client.cookies.clear()
        fuzz.client.cookies.update(cookies)
        return await fuzz.client.request(**kwargs)

    return fuzz.loop.run_until_complete(request())


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_every_operation_answers_without_5xx_and_as_declared(case):
    response = send(case)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
