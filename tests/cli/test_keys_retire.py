"""``jwtkit keys retire KID``: the answer to a leaked signing key, from the command line."""

import asyncio

import pytest

import jwtkit
from jwtkit import wiring
from jwtkit.auth.errors import InvalidTokenError
from support.constants import PASSWORD


@pytest.fixture
def database(tmp_path, monkeypatch):
    for name in wiring.variable_names():
        monkeypatch.delenv(name, raising=False)
    return str(tmp_path / "auth.sqlite3")


def on_service(database, action):
    async def run():
        service = await wiring.open_service(wiring.ServerSettings(database_url=database))
        try:
            return await action(service)
        finally:
            await service.close()

    return asyncio.run(run())


def logged_in(database, times=1):
    async def login(service):
        await service.register("alice", PASSWORD)
        return [await service.login("alice", PASSWORD, client="c") for _ in range(times)]

    return on_service(database, login)


def kid_of(token):
    return jwtkit.decode_unverified(token)[0]["kid"]


def test_retire_ends_the_key_and_says_how_many_sessions_must_log_in_again(cli, database):
    pairs = logged_in(database, times=2)
    kid = kid_of(pairs[0].access_token)
    assert cli("keys", "rotate", "--database", database).code == 0

    result = cli("keys", "retire", "--database", database, "--", kid)  # a kid may start with "-"

    assert result.code == 0, result.err
    assert f"retired signing key {kid}" in result.out
    assert "2 live sessions signed with it ended" in result.out

    async def published_after_refusing_the_old_token(service):
        with pytest.raises(InvalidTokenError):
            service.authenticate(pairs[0].access_token)
        return {jwk["kid"] for jwk in service.jwks()["keys"]}

    assert kid not in on_service(database, published_after_refusing_the_old_token)


def test_retiring_the_active_key_names_its_replacement(cli, database):
    (pair,) = logged_in(database)
    kid = kid_of(pair.access_token)

    result = cli("keys", "retire", "--database", database, "--", kid)  # a kid may start with "-"

    assert result.code == 0, result.err
    assert f"{kid} was the active signing key: the new active key is " in result.out
    assert "1 live session signed with it ended: that user must log in again" in result.out


def test_retiring_an_unknown_kid_is_a_usage_error(cli, database):
    logged_in(database)
    result = cli("keys", "retire", "no-such-kid", "--database", database)
    assert result.code == 2
    assert "no live signing key with kid 'no-such-kid'" in result.err
