"""``jwtkit serve --no-register`` (``JWTKIT_REGISTER=0``): POST /auth/register answers 403
``registration_closed`` and the OpenAPI description says so; accounts come from the operator
(``jwtkit users create``) and log in as usual."""

import pytest

from jwtkit.auth.settings import AuthSettings
from jwtkit.wiring import ServerSettings, build_app

from .conftest import FAST_HASHING, PASSWORD, login, serve

pytestmark = pytest.mark.anyio
BACKENDS_HERE = ["memory"]


@pytest.fixture
def app(service_factory):
    from jwtkit.web import create_app

    return create_app(service_factory, maintenance_interval=None, registration=False)


async def test_registration_is_403_with_a_clear_body(client):
    response = await client.post("/auth/register", json={"username": "alice", "password": PASSWORD})
    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "registration_closed"
    assert "operator" in body["message"]


async def test_an_account_the_operator_made_logs_in(app, client):
    await app.state.service.create_user("alice", PASSWORD)
    await login(client)


async def test_the_openapi_description_documents_the_closed_route_only(client):
    operation = (await client.get("/openapi.json")).json()["paths"]["/auth/register"]["post"]
    assert operation["operationId"] == "register"
    assert set(operation["responses"]) == {"403"}
    assert operation["responses"]["403"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")


@pytest.mark.parametrize(("register", "status"), [(True, 201), (False, 403)])
async def test_the_server_setting_opens_and_closes_registration(register, status):
    app = build_app(ServerSettings(database_url="memory://", register=register, auth=AuthSettings(**FAST_HASHING)))
    async with serve(app) as client:
        response = await client.post("/auth/register", json={"username": "alice", "password": PASSWORD})
    assert response.status_code == status


@pytest.mark.parametrize(("raw", "expected"), [("0", False), ("off", False), ("1", True)])
def test_jwtkit_register_variable(raw, expected):
    assert ServerSettings.from_env({"JWTKIT_REGISTER": raw}).register is expected
