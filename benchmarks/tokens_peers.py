"""jwtkit and its peers in ``bench_tokens.py``: for each library, its encode and verify-with-claims per
algorithm, used the fair, fast way: keys parsed once into the library's own key object, only the
encode/decode call timed, ``exp``/``iat`` required where the library can. A factory raises
ImportError when its library is not installed (the runner skips it with a note)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from tokens_floor import ALGS, Fn, KeyMaterial


def _pem_pair(km: KeyMaterial, oct_key: Any, classes: Mapping[str, Any]) -> tuple[Any, Any]:
    """(private, public) key objects of a library whose key classes import PEM (HS256: the secret)."""
    if km.alg == "HS256":
        key = oct_key.import_key(km.private)
        return key, key
    cls = classes[km.alg]
    return cls.import_key(km.private_pem), cls.import_key(km.public_pem)


def lib_jwtkit(keys: Mapping[str, KeyMaterial]) -> dict[tuple[str, str], Fn]:
    import jwtkit  # this checkout's (``harness`` puts its ``src`` first on sys.path)

    out: dict[tuple[str, str], Fn] = {}
    for alg in ALGS:
        key = jwtkit.Key.from_jwk(keys[alg].private_jwk)
        verifier = jwtkit.Verifier(
            key if alg == "HS256" else key.public_key(), algorithms=[alg], required=["exp", "iat"]
        )
        out[(alg, "encode")] = lambda p, k=key: jwtkit.encode(p, k)
        out[(alg, "verify")] = verifier.verify
    return out


def lib_pyjwt(keys: Mapping[str, KeyMaterial]) -> dict[tuple[str, str], Fn]:
    import jwt

    opts = {"require": ["exp", "iat"]}
    out: dict[tuple[str, str], Fn] = {}
    for alg in ALGS:
        priv, pub, algs = keys[alg].private, keys[alg].public, [alg]
        out[(alg, "encode")] = lambda p, priv=priv, alg=alg: jwt.encode(p, priv, algorithm=alg)
        out[(alg, "verify")] = lambda t, pub=pub, algs=algs: jwt.decode(t, pub, algorithms=algs, options=opts)
    return out


def lib_joserfc(keys: Mapping[str, KeyMaterial]) -> dict[tuple[str, str], Fn]:
    from joserfc import jwt
    from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey

    registry = jwt.JWTClaimsRegistry(exp={"essential": True}, iat={"essential": True})
    out: dict[tuple[str, str], Fn] = {}
    for alg in ALGS:
        priv, pub = _pem_pair(keys[alg], OctKey, {"RS256": RSAKey, "PS256": RSAKey, "ES256": ECKey, "EdDSA": OKPKey})
        hdr, algs = {"alg": alg}, [alg]

        def dec(t: str, pub: Any = pub, algs: list[str] = algs) -> Any:
            tok = jwt.decode(t, pub, algorithms=algs)
            registry.validate(tok.claims)
            return tok.claims

        out[(alg, "encode")] = lambda p, priv=priv, hdr=hdr, algs=algs: jwt.encode(hdr, p, priv, algorithms=algs)
        out[(alg, "verify")] = dec
    return out


def lib_jwcrypto(keys: Mapping[str, KeyMaterial]) -> dict[tuple[str, str], Fn]:
    from jwcrypto import jwk, jwt

    checks = {"exp": None, "iat": None}
    out: dict[tuple[str, str], Fn] = {}
    for alg in ALGS:
        km = keys[alg]
        if alg == "HS256":
            priv = pub = jwk.JWK(**{k: v for k, v in km.private_jwk.items() if k != "alg"})
        else:
            priv, pub = jwk.JWK.from_pyca(km.private), jwk.JWK.from_pyca(km.public)
        hdr, algs = {"alg": alg, "typ": "JWT"}, [alg]

        def enc(p: dict[str, Any], priv: Any = priv, hdr: dict[str, str] = hdr) -> str:
            t = jwt.JWT(header=hdr, claims=p)
            t.make_signed_token(priv)
            return t.serialize()  # type: ignore[no-any-return]

        def dec(t: str, pub: Any = pub, algs: list[str] = algs) -> Any:
            tok = jwt.JWT(jwt=t, key=pub, algs=algs, expected_type="JWS", check_claims=checks)
            return json.loads(tok.claims)

        out[(alg, "encode")] = enc
        out[(alg, "verify")] = dec
    return out


def lib_python_jose(keys: Mapping[str, KeyMaterial]) -> dict[tuple[str, str], Fn]:
    from jose import jwk, jwt
    from jose.constants import ALGORITHMS

    out: dict[tuple[str, str], Fn] = {}
    for alg in ALGS:
        if alg not in ALGORITHMS.SUPPORTED:
            continue  # python-jose has no PS256 and no EdDSA
        km = keys[alg]
        if alg == "HS256":
            priv = pub = jwk.construct(km.private, alg)
        else:
            priv, pub = jwk.construct(km.private_pem, alg), jwk.construct(km.public_pem, alg)
        algs = [alg]
        out[(alg, "encode")] = lambda p, priv=priv, alg=alg: jwt.encode(p, priv, algorithm=alg)
        out[(alg, "verify")] = lambda t, pub=pub, algs=algs: jwt.decode(t, pub, algorithms=algs)
    return out


def lib_authlib(keys: Mapping[str, KeyMaterial]) -> dict[tuple[str, str], Fn]:
    import authlib.deprecate  # noqa: F401  (installs an "always" warnings filter at import)

    with warnings.catch_warnings():  # authlib.jose says it is deprecated in favour of joserfc
        warnings.simplefilter("ignore")
        from authlib.jose import ECKey, JsonWebToken, OctKey, OKPKey, RSAKey
    opts = {"exp": {"essential": True}, "iat": {"essential": True}}
    out: dict[tuple[str, str], Fn] = {}
    for alg in ALGS:
        priv, pub = _pem_pair(keys[alg], OctKey, {"RS256": RSAKey, "PS256": RSAKey, "ES256": ECKey, "EdDSA": OKPKey})
        jt, hdr = JsonWebToken([alg]), {"alg": alg}

        def dec(t: str, pub: Any = pub, jt: Any = jt) -> Any:
            c = jt.decode(t, pub, claims_options=opts)
            c.validate()
            return c

        out[(alg, "encode")] = lambda p, priv=priv, hdr=hdr, jt=jt: jt.encode(hdr, p, priv)
        out[(alg, "verify")] = dec
    return out


FACTORIES: dict[str, Callable[[Mapping[str, KeyMaterial]], dict[tuple[str, str], Fn]]] = {
    "jwtkit": lib_jwtkit,
    "pyjwt": lib_pyjwt,
    "joserfc": lib_joserfc,
    "jwcrypto": lib_jwcrypto,
    "python-jose": lib_python_jose,
    "authlib": lib_authlib,
}
