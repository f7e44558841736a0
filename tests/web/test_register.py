"""POST /auth/register: 201 {id, username}; 409 when taken; 422 for invalid input."""

import pytest

from .conftest import PASSWORD, register

pytestmark = pytest.mark.anyio


async def test_register_answers_201_with_id_and_username(client):
    response = await client.post("/auth/register", json={"username": "alice", "password": PASSWORD})
    assert response.status_code == 201
    body = response.json()
    assert body["username"] == "alice"
    assert isinstance(body["id"], int)
    assert set(body) == {"id", "username"}


async def test_register_twice_with_one_username_is_409(client):
    await register(client, "alice")
    response = await client.post("/auth/register", json={"username": "alice", "password": "another password"})
    assert response.status_code == 409
    assert response.json()["error"] == "username_taken"


async def test_each_user_gets_their_own_id(client):
    first = await register(client, "alice")
    second = await register(client, "bob")
    assert first["id"] != second["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "alice", "password": "short"}, "password"),  # policy: at least 8 characters
        ({"username": "alice", "password": "x" * 1025}, "password"),
        ({"username": "", "password": PASSWORD}, "username"),
        ({"username": "a" * 151, "password": PASSWORD}, "username"),
        ({"username": "bad name", "password": PASSWORD}, "username"),
        ({"username": 42, "password": PASSWORD}, "username"),  # a number is not a string
        ({"username": "alice"}, "password"),
        ({"password": PASSWORD}, "username"),
        ({"username": None, "password": PASSWORD}, "username"),
    ],
)
async def test_invalid_registration_is_422_naming_the_field(client, body, field):
    response = await client.post("/auth/register", json=body)
    assert response.status_code == 422
    payload = response.json()
    assert payload["error"] == "invalid_input"
    assert field in {f["field"] for f in payload["fields"]}


async def test_invalid_input_is_never_echoed_back(client):
    secret = "s3cret-but-too-long-" * 60
    response = await client.post("/auth/register", json={"username": "alice", "password": secret})
    assert response.status_code == 422
    assert secret not in response.text
    response = await client.post("/auth/register", json={"username": ["x"], "password": 12345678})
    assert response.status_code == 422
    assert "12345678" not in response.text


async def test_a_taken_username_can_still_log_in_with_its_first_password(client):
    await register(client, "alice", PASSWORD)
    await client.post("/auth/register", json={"username": "alice", "password": "the thief's password"})
    response = await client.post("/auth/token", json={"username": "alice", "password": "the thief's password"})
    assert response.status_code == 401
    response = await client.post("/auth/token", json={"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
