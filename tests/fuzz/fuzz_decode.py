"""Coverage-guided fuzzing (atheris/libFuzzer) of jwtkit's untrusted-input entry points.

The contract (issue 2): for any input, ``Verifier.verify``, ``jwtkit.jws.verify``,
``decode_unverified``, ``Key.from_jwk`` and ``KeySet.from_jwks`` raise only
``jwtkit.JWTError`` subclasses. Any other exception is a crash.

atheris is an optional tool, not a project dependency. To run::

    .venv/bin/pip install atheris
    mkdir -p /tmp/fuzz-verify && cp tests/fuzz/corpus/verify/* /tmp/fuzz-verify/
    .venv/bin/python tests/fuzz/fuzz_decode.py verify /tmp/fuzz-verify tests/fuzz/corpus/verify \\
        -max_total_time=300 -max_len=4096 -artifact_prefix=/tmp/fuzz-verify-

Targets (the first argument; see ``fuzz_targets.TARGETS``): ``verify`` (the input is a
token), ``signed`` (the input is ``header JSON`` newline ``payload JSON``, re-signed with
the fixed HS256 key so the claim checks run), ``jws``, ``unverified``, ``jwk``, ``jwks``.
The remaining arguments go to libFuzzer: the first directory collects the growing corpus
(use a scratch directory; the committed corpus is a small seed set), later ones are
read-only seeds. A crash writes ``<artifact_prefix>crash-<sha1>``; minimise it with
``-minimize_crash=1 -runs=10000 <file>``, then commit it under ``tests/fuzz/corpus/<target>/``
so ``test_fuzz_corpus.py`` keeps it as a regression test.

``--collect DIR`` (before the target) keeps going after a crash: each distinct crash (type and
innermost jwtkit line) is saved once to ``DIR`` with its traceback, for a long unattended run.

``--replay TARGET DIR...`` runs a grown corpus through a target *without* instrumentation and
prints each distinct crash. Do this after every campaign: atheris's instrumented ``in``/``not in``
swallows the ``TypeError`` of an unhashable operand (``[] in {}`` is simply False under the
fuzzer), so that class of bug only shows up in the replay.

``--write-seeds DIR`` writes the seed tokens, JWKs and JWKS documents (made with the
fixed keys of ``fuzz_targets``) into ``DIR/<target>/`` and exits.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from pathlib import Path


def write_seeds(root: Path) -> None:
    import json

    from fuzz_targets import ED_KEY, ES_KEY, HS_KEY, KEYSET, NOW

    import jwtkit

    claims = {"sub": "42", "jti": "j1", "aud": "api", "iss": "https://issuer.example", "exp": NOW + 60, "iat": NOW}
    keys = (HS_KEY, ES_KEY, ED_KEY)
    tokens = {f"token-{key.alg}": jwtkit.encode(claims, key).encode() for key in keys}
    header = json.dumps({"alg": "HS256", "typ": "JWT", "kid": "hs"}).encode()
    seeds = {
        "verify": tokens,
        "jws": tokens,
        "unverified": tokens,
        "signed": {
            "claims-valid": header + b"\n" + json.dumps(claims).encode(),
            "claims-bad-types": b'{"exp":true,"nbf":"1","aud":[1],"iss":["x"],"sub":5,"jti":null}',
        },
        "jwk": {f"jwk-{key.alg}": json.dumps(key.to_jwk(private=True)).encode() for key in keys},
        "jwks": {"jwks": json.dumps({"keys": [k.to_jwk(private=k.kty == "oct") for k in KEYSET]}).encode()},
    }
    for target, files in seeds.items():
        (root / target).mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (root / target / name).write_bytes(data)


def collecting(target: Callable[[bytes], None], out: Path) -> Callable[[bytes], None]:
    """Wrap ``target`` so each distinct crash is saved once and fuzzing goes on.

    A crash is identified by its exception type and the innermost jwtkit frame; the first
    input for each goes to ``out/crash-<Type>-<file>-<line>`` with its traceback beside it.
    """
    out.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()

    def run(data: bytes) -> None:
        try:
            target(data)
        except Exception as exc:
            frames = [f for f in traceback.extract_tb(exc.__traceback__) if "jwtkit" in f.filename]
            where = f"{Path(frames[-1].filename).stem}-{frames[-1].lineno}" if frames else "harness"
            name = f"crash-{type(exc).__name__}-{where}"
            if name not in seen:
                seen.add(name)
                (out / name).write_bytes(data)
                (out / f"{name}.txt").write_text("".join(traceback.format_exception(exc)))
                print(f"NEW CRASH {name}", file=sys.stderr, flush=True)

    return run


def replay(target_name: str, dirs: list[str]) -> int:
    """Run every file of ``dirs`` through one target, uninstrumented; print each distinct crash."""
    from fuzz_targets import TARGETS

    crashes: dict[str, str] = {}
    for directory in dirs:
        for path in sorted(Path(directory).rglob("*")):
            if not path.is_file():
                continue
            try:
                TARGETS[target_name](path.read_bytes())
            except Exception as exc:
                frame = traceback.extract_tb(exc.__traceback__)[-1]
                crashes.setdefault(f"{type(exc).__name__}: {exc} at {frame.filename}:{frame.lineno}", str(path))
    for crash, path in crashes.items():
        print(f"{crash}\n    first input: {path}")
    return 1 if crashes else 0


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    args = sys.argv[1:]
    if len(args) >= 2 and args[0] == "--write-seeds":
        write_seeds(Path(args[1]))
        return
    if len(args) >= 3 and args[0] == "--replay":
        sys.exit(replay(args[1], args[2:]))
    collect: Path | None = None
    if len(args) >= 2 and args[0] == "--collect":
        collect, args = Path(args[1]), args[2:]
    import atheris

    with atheris.instrument_imports():
        import fuzz_targets

    if not args or args[0] not in fuzz_targets.TARGETS:
        sys.exit(
            f"usage: fuzz_decode.py [--collect DIR] {{{','.join(fuzz_targets.TARGETS)}}} [libFuzzer options] [corpus]"
        )
    target = fuzz_targets.TARGETS[args[0]]
    if collect is not None:
        target = collecting(target, collect)
    atheris.instrument_all()
    atheris.Setup([sys.argv[0], *args[1:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
