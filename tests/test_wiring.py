"""The composition root: ServerSettings from JWTKIT_* variables and flags (the one place that reads
the environment), database URLs, and the app it builds."""

import ast
import asyncio
import dataclasses
import logging
import os
from pathlib import Path

import httpx
import pytest

from jwtkit import wiring
from jwtkit.auth.errors import InvalidTokenError, ServiceUnavailableError
from jwtkit.auth.service import AuthService
from jwtkit.auth.settings import AuthSettings
from jwtkit.wiring import (
    ServerSettings,
    build_app,
    normalize_database_url,
    open_service,
    polls_database,
    redacted,
    redis_ping_interval,
)

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "jwtkit"


def test_defaults_are_those_of_issue_3():
    settings = ServerSettings.from_env({})
    assert settings.database_url == "sqlite+aiosqlite:///jwtkit.sqlite3"  # a file in the working directory
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert (settings.access_ttl, settings.refresh_ttl) == (300, 86400)
    assert settings.alg == "ES256"
    assert settings.redis_url is None
    assert settings.workers == 1
    assert settings.access_log is True
    assert settings.revocation_fail_open is False  # fail closed unless the operator chooses otherwise
    assert settings.database_schema is None
    assert settings.redis_prefix == "jwtkit:"


def test_every_setting_reads_its_jwtkit_variable():
    env = {
        "JWTKIT_DATABASE_URL": "sqlite:///tmp/x.db", "JWTKIT_REDIS_URL": "redis://127.0.0.1:6379/0",
        "JWTKIT_HOST": "0.0.0.0", "JWTKIT_PORT": "9000", "JWTKIT_ACCESS_TTL": "60", "JWTKIT_REFRESH_TTL": "600",
        "JWTKIT_SESSION_TTL": "900", "JWTKIT_ISSUER": "https://auth.example", "JWTKIT_AUDIENCE": "api",
        "JWTKIT_ALG": "EdDSA", "JWTKIT_KEY_ENCRYPTION_SECRET": "0123456789abcdef0123",
        "JWTKIT_WORKERS": "2", "JWTKIT_ACCESS_LOG": "off", "JWTKIT_REDIS_PREFIX": "app1:",
        "JWTKIT_REVOCATION_FAIL_OPEN": "yes", "JWTKIT_REGISTER_MAX_PER_CLIENT": "200",
    }
    settings = ServerSettings.from_env(env)
    assert settings == ServerSettings(
        database_url="sqlite+aiosqlite:///tmp/x.db", redis_url="redis://127.0.0.1:6379/0", redis_prefix="app1:",
        revocation_fail_open=True, host="0.0.0.0",
        port=9000, access_ttl=60, refresh_ttl=600, session_ttl=900, issuer="https://auth.example",
        audience="api", alg="EdDSA", key_encryption_secret=b"0123456789abcdef0123", workers=2, access_log=False,
        register_max_per_client=200,
    )


def test_flags_win_over_variables_and_absent_flags_do_not():
    settings = ServerSettings.from_env({"JWTKIT_PORT": "9000", "JWTKIT_HOST": "0.0.0.0"}, port=9100, host=None)
    assert settings.port == 9100
    assert settings.host == "0.0.0.0"


def test_unrelated_variables_are_ignored():
    assert ServerSettings.from_env({"PORT": "1", "JWTKIT_UNKNOWN": "x"}) == ServerSettings()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"JWTKIT_PORT": "http"}, "JWTKIT_PORT"),
        ({"JWTKIT_PORT": "70000"}, "port"),
        ({"JWTKIT_ACCESS_TTL": "0"}, "access_ttl"),
        ({"JWTKIT_REFRESH_TTL": "-5"}, "refresh_ttl"),
        ({"JWTKIT_WORKERS": "0"}, "workers"),
        ({"JWTKIT_ACCESS_LOG": "maybe"}, "JWTKIT_ACCESS_LOG"),
        ({"JWTKIT_ALG": "HS256"}, "asymmetric"),
        ({"JWTKIT_ALG": "none"}, "alg"),
        ({"JWTKIT_WORKERS": "2", "JWTKIT_DATABASE_URL": "memory://"}, "shared database"),
        ({"JWTKIT_WORKERS": "2", "JWTKIT_DATABASE_URL": "sqlite:///:memory:"}, "shared database"),
        ({"JWTKIT_REVOCATION_FAIL_OPEN": "perhaps"}, "JWTKIT_REVOCATION_FAIL_OPEN"),
        ({"JWTKIT_REVOCATION_MAX_STALENESS": "soon"}, "JWTKIT_REVOCATION_MAX_STALENESS"),
        ({"JWTKIT_REVOCATION_MAX_STALENESS": "0"}, "revocation_max_staleness"),
        ({"JWTKIT_REVOCATION_POLL_INTERVAL": "often"}, "JWTKIT_REVOCATION_POLL_INTERVAL"),
        ({"JWTKIT_REVOCATION_POLL_INTERVAL": "0"}, "revocation_poll_interval"),
        ({"JWTKIT_REVOCATION_POLL_INTERVAL": "nan"}, "revocation_poll_interval"),
        ({"JWTKIT_REVOCATION_POLL_INTERVAL": "1"}, "below revocation_max_staleness"),  # always stale otherwise
        ({"JWTKIT_DATABASE_SCHEMA": "tenant1"}, "PostgreSQL only"),
        ({"JWTKIT_REFRESH_REUSE_GRACE": "briefly"}, "JWTKIT_REFRESH_REUSE_GRACE"),
        ({"JWTKIT_REFRESH_REUSE_GRACE": "-1"}, "refresh_reuse_grace"),
        ({"JWTKIT_REFRESH_REUSE_GRACE": "nan"}, "refresh_reuse_grace"),
        ({"JWTKIT_FORWARDED_ALLOW_IPS": "10.0.0.1,proxy.local"}, "forwarded_allow_ips"),
        ({"JWTKIT_COOKIE_SECURE": "sometimes"}, "cookie_secure"),
        ({"JWTKIT_CORS_ORIGINS": "https://app.example/path"}, "CORS origin"),
        ({"JWTKIT_CORS_ORIGINS": "app.example"}, "CORS origin"),
        ({"JWTKIT_REGISTER_MAX_PER_CLIENT": "many"}, "JWTKIT_REGISTER_MAX_PER_CLIENT"),
        ({"JWTKIT_REGISTER_MAX_PER_CLIENT": "0"}, "register_max_per_client"),
    ],
)
def test_bad_values_are_refused_naming_the_setting(env, message):
    with pytest.raises(ValueError, match=message):
        ServerSettings.from_env(env)


def test_the_key_encryption_secret_never_prints():
    settings = ServerSettings(key_encryption_secret=b"super-secret-value-123")
    assert "super-secret" not in repr(settings)
    assert "super-secret" not in str(settings)


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ServerSettings().port = 1  # type: ignore[misc]


def test_auth_settings_carry_the_token_settings():
    settings = ServerSettings(access_ttl=60, refresh_ttl=600, session_ttl=900, issuer="iss", audience="aud",
                              alg="ES384", key_encryption_secret=b"0123456789abcdef")
    auth = settings.auth_settings()
    assert (auth.access_ttl, auth.refresh_ttl, auth.session_ttl) == (60, 600, 900)
    assert (auth.issuer, auth.audience, auth.alg) == ("iss", "aud", "ES384")
    assert auth.key_encryption_secret == b"0123456789abcdef"


def test_revocation_fail_open_reaches_the_auth_settings():
    assert ServerSettings(revocation_fail_open=True).auth_settings().revocation_fail_open is True
    assert ServerSettings().auth_settings().revocation_fail_open is False


def test_the_revocation_staleness_bound_reaches_the_auth_settings(monkeypatch):
    assert ServerSettings.from_env({}).auth_settings().revocation_max_staleness == 1.0
    settings = ServerSettings.from_env({"JWTKIT_REVOCATION_MAX_STALENESS": "2.5"})
    assert settings.auth_settings().revocation_max_staleness == 2.5
    assert settings_from_serve_flags(monkeypatch, "--revocation-max-staleness", "3").revocation_max_staleness == 3.0


def test_the_refresh_reuse_grace_is_off_by_default_and_read_from_its_variable_and_its_flag(monkeypatch):
    assert ServerSettings.from_env({}).auth_settings().refresh_reuse_grace == 0
    settings = ServerSettings.from_env({"JWTKIT_REFRESH_REUSE_GRACE": "2.5"})
    assert settings.auth_settings().refresh_reuse_grace == 2.5
    assert settings_from_serve_flags(monkeypatch, "--refresh-reuse-grace", "3").refresh_reuse_grace == 3.0


def test_the_poll_interval_is_read_from_its_variable_and_its_flag(monkeypatch):
    assert ServerSettings.from_env({}).revocation_poll_interval == 0.1
    assert ServerSettings.from_env({"JWTKIT_REVOCATION_POLL_INTERVAL": "0.5"}).revocation_poll_interval == 0.5
    assert settings_from_serve_flags(monkeypatch, "--revocation-poll-interval", "0.1").revocation_poll_interval == 0.1


@pytest.mark.parametrize(
    ("settings", "polls"),
    [
        (ServerSettings(), True),  # one SQLite file: another `jwtkit serve` may share it
        (ServerSettings(workers=2), True),
        (ServerSettings(database_url="postgresql://u@127.0.0.1/db"), True),  # other machines may share it
        (ServerSettings(redis_url="redis://127.0.0.1:6379/0"), False),  # Redis carries revocations
        (ServerSettings(database_url="memory://"), False),  # nobody else can see it
        (ServerSettings(database_url="sqlite:///:memory:"), False),  # nor this
        (ServerSettings(database_url="sqlite://"), False),
    ],
)
def test_every_server_on_a_real_database_without_redis_polls_it(settings, polls):
    assert polls_database(settings) is polls


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_two_servers_started_separately_on_one_sqlite_file_share_a_logout(tmp_path, anyio_backend):
    settings = ServerSettings(database_url=f"sqlite:///{tmp_path / 'auth.db'}", revocation_poll_interval=0.02)
    server_a = await open_service(settings)
    server_b = await open_service(settings)
    try:
        await server_a.register("alice", "long enough")
        pair = await server_a.login("alice", "long enough", client="c")
        assert server_b.authenticate(pair.access_token).username == "alice"

        await server_a.logout(server_a.authenticate(pair.access_token), pair.refresh_token)

        deadline = asyncio.get_running_loop().time() + 10
        while not revoked_on(server_b, pair.access_token):
            assert asyncio.get_running_loop().time() < deadline, "B never learnt of A's logout"
            await asyncio.sleep(0.01)
    finally:
        await server_a.close()
        await server_b.close()


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("url", ["sqlite:///:memory:", "memory://"])
async def test_a_server_on_an_in_process_database_opens_and_serves(url, anyio_backend):
    service = await open_service(ServerSettings(database_url=url))
    try:
        await service.register("alice", "long enough")
        pair = await service.login("alice", "long enough", client="c")
        assert service.authenticate(pair.access_token).username == "alice"
    finally:
        await service.close()


@pytest.mark.parametrize(("staleness", "ping"), [(1.0, 0.25), (0.5, 0.125), (0.2, 0.05)])
def test_the_redis_feed_confirms_its_connection_four_times_per_staleness_bound_at_least(staleness, ping):
    settings = ServerSettings(redis_url="redis://127.0.0.1:6379/0", revocation_max_staleness=staleness,
                              revocation_poll_interval=staleness / 10)
    assert redis_ping_interval(settings) == ping


def revoked_on(service: AuthService, token: str) -> bool:
    try:
        service.authenticate(token)
    except InvalidTokenError as refused:
        return refused.reason == "access token revoked"
    except ServiceUnavailableError:  # a stall of this busy test process: not an answer yet
        return False
    return False


def test_the_postgresql_schema_variable_is_read():
    settings = ServerSettings.from_env({"JWTKIT_DATABASE_URL": "postgresql://u@127.0.0.1/db",
                                        "JWTKIT_DATABASE_SCHEMA": "tenant1"})
    assert settings.database_schema == "tenant1"


def test_to_env_round_trips():
    settings = ServerSettings(database_url="sqlite:///x.db", port=0, issuer="iss",
                              key_encryption_secret=b"0123456789abcdef", access_log=False, workers=3,
                              revocation_fail_open=True, redis_prefix="app1:", revocation_max_staleness=2.5,
                              revocation_poll_interval=0.5, forwarded_allow_ips="10.0.0.1,10.1.0.0/16",
                              cookie_secure="always", cors_origins=("https://a.example", "http://localhost:3000"))
    assert ServerSettings.from_env(settings.to_env()) == settings


def test_the_browser_and_proxy_settings_default_to_trusting_no_one():
    settings = ServerSettings.from_env({})
    assert settings.forwarded_allow_ips is None
    assert settings.cookie_secure == "auto"
    assert settings.cors_origins == ()


def test_the_browser_and_proxy_settings_read_their_variables():
    settings = ServerSettings.from_env({"JWTKIT_FORWARDED_ALLOW_IPS": "127.0.0.1, 10.0.0.0/8",
                                        "JWTKIT_COOKIE_SECURE": "never",
                                        "JWTKIT_CORS_ORIGINS": "https://a.example, https://b.example/"})
    assert settings.forwarded_allow_ips == "127.0.0.1, 10.0.0.0/8"
    assert settings.cookie_secure == "never"
    assert settings.cors_origins == ("https://a.example", "https://b.example")


def test_serve_proxy_cookie_and_cors_flags_are_read(monkeypatch):
    settings = settings_from_serve_flags(monkeypatch, "--forwarded-allow-ips", "10.0.0.1", "--cookie-secure",
                                         "always", "--cors-origin", "https://a.example",
                                         "--cors-origin", "https://b.example")
    assert settings.forwarded_allow_ips == "10.0.0.1"
    assert settings.cookie_secure == "always"
    assert settings.cors_origins == ("https://a.example", "https://b.example")


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("sqlite:///jwtkit.sqlite3", "sqlite+aiosqlite:///jwtkit.sqlite3"),
        ("sqlite:////var/lib/auth.db", "sqlite+aiosqlite:////var/lib/auth.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql://u:p@127.0.0.1/db", "postgresql+asyncpg://u:p@127.0.0.1/db"),
        ("postgres://u@127.0.0.1/db", "postgresql+asyncpg://u@127.0.0.1/db"),
        ("auth.db", "sqlite+aiosqlite:///auth.db"),
        ("/var/lib/auth.db", "sqlite+aiosqlite:////var/lib/auth.db"),
        ("memory://", "memory://"),
    ],
)
def test_database_urls_get_their_async_driver(url, normal):
    assert normalize_database_url(url) == normal


def test_passwords_in_urls_are_redacted():
    assert redacted("postgresql+asyncpg://jwt:hunter2@127.0.0.1:5432/db") == "postgresql+asyncpg://jwt:***@127.0.0.1:5432/db"
    assert redacted("sqlite+aiosqlite:///x.db") == "sqlite+aiosqlite:///x.db"


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_build_app_serves_the_api_over_the_configured_store(tmp_path, anyio_backend):
    app = build_app(ServerSettings(database_url=f"sqlite:///{tmp_path / 'auth.db'}"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post("/auth/register", json={"username": "alice", "password": "long enough"})
            assert response.status_code == 201
            assert (await client.get("/.well-known/jwks.json")).json()["keys"]
    assert (tmp_path / "auth.db").exists()


def reads_the_environment(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "environb"}:
            return True
        if isinstance(node, ast.ImportFrom) and node.module == "os" and any(
            a.name in {"environ", "getenv"} for a in node.names
        ):
            return True
    return False


def test_only_the_composition_root_reads_the_environment_among_the_server_layers():
    layers = ("core", "auth", "storage", "web", "integrations")
    offenders = [str(p.relative_to(PACKAGE)) for layer in layers for p in (PACKAGE / layer).rglob("*.py")
                 if reads_the_environment(p)]
    files = ("errors.py", "cli/serve.py", "cli/server.py", "cli/keys.py", "wiring/settings.py", "wiring/app.py",
             "wiring/stores.py")
    offenders += [name for name in files if reads_the_environment(PACKAGE / name)]
    assert offenders == []
    assert reads_the_environment(PACKAGE / "wiring" / "env.py")


def settings_from_serve_flags(monkeypatch: pytest.MonkeyPatch, *flags: str) -> ServerSettings:
    """The settings ``jwtkit serve FLAGS`` would run with (``jwtkit.cli.server.run`` replaced by a recorder)."""
    from jwtkit.cli import main, server

    seen: list[ServerSettings] = []

    def record(settings: ServerSettings, **_: object) -> bool:
        seen.append(settings)
        return True

    for name in [n for n in os.environ if n.startswith("JWTKIT_")]:
        monkeypatch.delenv(name)
    monkeypatch.setattr(server, "run", record)
    assert main(["serve", *flags]) == 0
    return seen[0]


def test_serve_fails_closed_on_stale_revocations_by_default(monkeypatch):
    assert settings_from_serve_flags(monkeypatch).auth_settings().revocation_fail_open is False


def test_serve_revocation_fail_open_flag_reaches_the_service_settings(monkeypatch):
    settings = settings_from_serve_flags(monkeypatch, "--revocation-fail-open")
    assert settings.revocation_fail_open is True
    assert settings.auth_settings().revocation_fail_open is True


def test_serve_schema_and_redis_prefix_flags_are_read(monkeypatch):
    settings = settings_from_serve_flags(monkeypatch, "--database", "postgresql://u@127.0.0.1/db",
                                         "--database-schema", "tenant1", "--redis-prefix", "app1:")
    assert (settings.database_schema, settings.redis_prefix) == ("tenant1", "app1:")


def test_serve_register_limit_flag_reaches_the_service_settings(monkeypatch):
    settings = settings_from_serve_flags(monkeypatch, "--register-max-per-client", "500")
    assert settings.auth_settings().register_max_per_client == 500


def test_serve_help_names_the_variable_of_every_setting(capsys):
    from jwtkit.cli import main

    assert main(["serve", "--help"]) == 0
    help_text = capsys.readouterr().out

    missing = [name for name in wiring.variable_names() if name not in help_text]
    assert missing == []


def test_the_start_line_warns_loudly_when_the_signing_keys_are_not_encrypted():
    level, line = wiring.key_protection(ServerSettings(database_url="sqlite:///auth.db"))
    assert level == logging.WARNING
    assert "UNENCRYPTED" in line
    assert "JWTKIT_KEY_ENCRYPTION_SECRET" in line


def test_the_start_line_says_the_signing_keys_are_encrypted_when_a_secret_is_set():
    settings = ServerSettings(database_url="postgresql://app:pw@db/auth", key_encryption_secret=b"s" * 32)
    level, line = wiring.key_protection(settings)
    assert level == logging.INFO
    assert "encrypted at rest" in line
    assert "pw" not in line


def test_the_start_line_of_an_in_memory_server_says_the_keys_are_never_written():
    level, line = wiring.key_protection(ServerSettings(database_url="memory://"))
    assert level == logging.INFO
    assert "memory" in line


def test_serve_serves_the_page_by_default(monkeypatch):
    assert settings_from_serve_flags(monkeypatch).ui is True


def test_serve_no_ui_flag_turns_the_page_off(monkeypatch):
    assert settings_from_serve_flags(monkeypatch, "--no-ui").ui is False


def test_serve_no_register_flag_closes_registration(monkeypatch):
    assert settings_from_serve_flags(monkeypatch, "--no-register").register is False
    assert settings_from_serve_flags(monkeypatch).register is True


@pytest.mark.parametrize(("raw", "expected"), [("0", False), ("off", False), ("1", True), ("yes", True)])
def test_jwtkit_ui_variable_turns_the_page_on_and_off(raw, expected):
    assert ServerSettings.from_env({"JWTKIT_UI": raw}).ui is expected


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize(("ui", "status"), [(True, 200), (False, 404)])
async def test_build_app_serves_the_page_only_with_ui_on(ui, status, anyio_backend):
    app = build_app(ServerSettings(database_url="memory://", ui=ui))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        assert (await client.get("/")).status_code == status  # outside the lifespan: the page needs no service


def test_a_malformed_jwtkit_ui_names_the_variable():
    with pytest.raises(ValueError, match="JWTKIT_UI"):
        ServerSettings.from_env({"JWTKIT_UI": "maybe"})


def test_server_settings_contain_the_auth_settings_rather_than_copy_them():
    auth = AuthSettings(login_max_failures=3, access_ttl=120)

    settings = ServerSettings(auth=auth, refresh_ttl=600)

    assert settings.auth == dataclasses.replace(auth, refresh_ttl=600)  # the keywords change the given auth
    assert (settings.access_ttl, settings.refresh_ttl) == (120, 600)  # and read back through it


def test_a_keyword_that_is_no_setting_is_a_type_error():
    with pytest.raises(TypeError, match="login_window"):
        ServerSettings(login_window=10)  # an auth setting the server does not expose


def test_every_exposed_setting_round_trips_through_its_variable():
    settings = ServerSettings(database_url="postgresql://u@127.0.0.1/db", database_schema="t1", access_ttl=61,
                              refresh_reuse_grace=1.5, issuer="iss", key_encryption_secret=b"k" * 16, ui=False,
                              introspection_client_secret="s" * 16)

    assert ServerSettings.from_env(settings.to_env()) == settings
    assert sorted(settings.to_env()) == sorted(name for name in wiring.variable_names()
                                               if name not in ("JWTKIT_REDIS_URL", "JWTKIT_AUDIENCE",
                                                               "JWTKIT_FORWARDED_ALLOW_IPS"))
