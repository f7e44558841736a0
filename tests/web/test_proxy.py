"""Behind a reverse proxy: ``--forwarded-allow-ips`` names the proxies whose
``Forwarded`` (RFC 7239) and ``X-Forwarded-For``/``-Proto`` headers are believed; login throttling
then counts the real client, a client that is not a trusted proxy cannot spoof its address, and the
session cookie is ``Secure`` when the original scheme was https. Through the app here; through a
real proxy hop in front of a real ``jwtkit serve`` in test_real_proxy.py."""

import pytest

from jwtkit.web import create_app
from jwtkit.web.proxy import TrustedProxies

from .conftest import PASSWORD, register, serve

pytestmark = pytest.mark.anyio

PROXY = "10.0.0.1"


@pytest.fixture
def backend():
    return "memory"


async def login_clients(service_factory, *, peer, headers, forwarded_allow_ips=PROXY, path="/auth/token"):
    """The ``client`` argument each login of ``headers`` (one login per entry) passed to the service."""
    app = create_app(service_factory, maintenance_interval=None, forwarded_allow_ips=forwarded_allow_ips)
    seen = []
    async with serve(app, client=(peer, 4000)) as client:
        await register(client)
        service = app.state.service
        for method in ("login", "session_login", "open_session"):
            original = getattr(service, method)

            async def spy(*args, _original=original, **kwargs):
                seen.append(kwargs["client"])
                return await _original(*args, **kwargs)

            setattr(service, method, spy)
        for extra in headers:
            response = await client.post(path, json={"username": "alice", "password": PASSWORD}, headers=extra)
            assert response.status_code == 200, response.text
    return seen


async def test_behind_a_trusted_proxy_throttling_counts_the_forwarded_client(service_factory):
    seen = await login_clients(service_factory, peer=PROXY, headers=[{"X-Forwarded-For": "203.0.113.7"},
                                                                     {"X-Forwarded-For": "198.51.100.9"}])
    assert seen == ["203.0.113.7", "198.51.100.9"]


async def test_rfc_7239_forwarded_is_read_too(service_factory):
    seen = await login_clients(service_factory, peer=PROXY, headers=[
        {"Forwarded": 'for=203.0.113.7;proto=https'},
        {"Forwarded": 'for="[2001:db8:1:2::5]:4711"'},
    ])
    assert seen == ["203.0.113.7", "2001:db8:1:2::/64"]  # IPv6 counted per /64 as before


async def test_a_client_that_is_not_a_trusted_proxy_cannot_spoof_its_address(service_factory):
    seen = await login_clients(service_factory, peer="192.0.2.50", headers=[
        {"X-Forwarded-For": "203.0.113.7"}, {"Forwarded": "for=203.0.113.8"},
    ])
    assert seen == ["192.0.2.50", "192.0.2.50"]


async def test_by_default_no_proxy_is_trusted(service_factory):
    seen = await login_clients(service_factory, peer="127.0.0.1", forwarded_allow_ips=None,
                               headers=[{"X-Forwarded-For": "203.0.113.7"}])
    assert seen == ["127.0.0.1"]


async def test_entries_a_client_prepends_are_not_believed(service_factory):
    # the client sent "X-Forwarded-For: 1.1.1.1"; our proxy appended the address it saw
    seen = await login_clients(service_factory, peer=PROXY, headers=[{"X-Forwarded-For": "1.1.1.1, 203.0.113.7"}])
    assert seen == ["203.0.113.7"]


async def test_a_chain_of_trusted_proxies_is_walked_to_the_first_untrusted_hop(service_factory):
    seen = await login_clients(service_factory, peer=PROXY, forwarded_allow_ips="10.0.0.0/8",
                               headers=[{"X-Forwarded-For": "1.1.1.1, 203.0.113.7, 10.2.3.4"}])
    assert seen == ["203.0.113.7"]


async def test_an_unknown_hop_keeps_the_peer_address(service_factory):
    seen = await login_clients(service_factory, peer=PROXY, headers=[{"Forwarded": "for=1.1.1.1, for=unknown"}])
    assert seen == [PROXY]


async def test_session_login_counts_the_forwarded_client_too(service_factory):
    seen = await login_clients(service_factory, peer=PROXY, path="/session/login",
                               headers=[{"X-Forwarded-For": "203.0.113.7"}])
    assert seen == ["203.0.113.7"]


async def session_cookie(service_factory, *, peer, headers, **options):
    app = create_app(service_factory, maintenance_interval=None, **options)
    async with serve(app, client=(peer, 4000)) as client:
        await register(client)
        response = await client.post("/session/login", json={"username": "alice", "password": PASSWORD},
                                     headers=headers)
        assert response.status_code == 200, response.text
        return response.headers["set-cookie"].lower()


async def test_the_session_cookie_is_secure_when_the_trusted_proxy_says_https(service_factory):
    cookie = await session_cookie(service_factory, peer=PROXY, headers={"X-Forwarded-Proto": "https"},
                                  forwarded_allow_ips=PROXY)
    assert "; secure" in cookie


async def test_the_session_cookie_is_secure_when_forwarded_says_https(service_factory):
    cookie = await session_cookie(service_factory, peer=PROXY, headers={"Forwarded": "for=203.0.113.7;proto=https"},
                                  forwarded_allow_ips=PROXY)
    assert "; secure" in cookie


async def test_an_untrusted_peer_cannot_claim_https(service_factory):
    cookie = await session_cookie(service_factory, peer="192.0.2.50", headers={"X-Forwarded-Proto": "https"},
                                  forwarded_allow_ips=PROXY)
    assert "secure" not in cookie


def test_proxy_addresses_parse_as_addresses_and_networks():
    trusted = TrustedProxies.parse("127.0.0.1, 10.0.0.0/8, ::1")
    assert trusted.trusts("10.9.8.7")
    assert trusted.trusts("::1")
    assert not trusted.trusts("192.0.2.1")
    assert not trusted.trusts("unknown")
    assert not TrustedProxies.parse("")
    assert TrustedProxies.parse("*").trusts("192.0.2.1")


def test_a_proxy_entry_that_is_not_an_address_is_refused():
    with pytest.raises(ValueError, match=r"proxy\.local"):
        TrustedProxies.parse("10.0.0.1, proxy.local")
