#!/usr/bin/env python3
"""jwtkit against its peers and the floor: µs per JWT encode and verify-with-claims.

Usage (from the repository root)::

    .venv/bin/pip install -e '.[bench]'          # PyJWT, joserfc, jwcrypto, python-jose, Authlib
    .venv/bin/python benchmarks/bench_tokens.py           # full run, ~2-4 minutes
    .venv/bin/python benchmarks/bench_tokens.py --quick   # smoke run, ~20 s
    .venv/bin/python benchmarks/bench_tokens.py --json results.json

What is measured, for HS256, RS256 (2048-bit), PS256, ES256 (P-256) and EdDSA (Ed25519):

  encode   sign the access-token payload
           {"token_type":"access","exp":now+300,"iat":now,"jti":<32 hex>,"user_id":123}
           and return the compact JWS string.
  verify   check the signature, then exp and iat (both required), returning the claims.

Columns:

  primitive  the raw crypto call on the signing input only: a pre-keyed pyca HMAC
             context copied per call (HS256), else pyca sign()/verify(). No JSON, no base64.
  floor      the minimal complete pipeline on stdlib + pyca ``cryptography``:
               encode = json.dumps + base64url + sign (+ ECDSA DER -> R||S) + base64url + join,
                        with the header segment precomputed (a library may cache it);
               verify = split + base64url-decode + json.loads of header (alg check) and
                        payload + verify (+ R||S -> DER) + exp/iat checks.
             For HS256 the floor's HMAC is the pre-keyed pyca context too (faster than
             stdlib ``hmac.digest``), so the HS256 floor is as low as we know how to make it.
  jwtkit     ``jwtkit.encode(claims, key)`` and a prebuilt
             ``Verifier(key, algorithms=[alg], required=["exp", "iat"]).verify(token)``.
  peers      PyJWT, joserfc, jwcrypto, python-jose, Authlib (those installed), each used the
             fair, fast way: keys parsed once into the library's key object, only the
             encode/decode call timed, exp/iat required where the library can.

Method (see ``harness/timing.py``): each cell is calibrated to a batch of ~25 ms (quick: 10 ms);
then 41 rounds (quick: 5), each running the cells of one alg x op group back-to-back in a
shuffled order, groups shuffled too. Ratios are paired: per round, cell / floor, then the
median over rounds; times are medians of the per-round per-op times. Tokens are re-issued
each round (exp = now + 300). A full run first waits (up to ``--quiet-budget`` seconds in all)
for other processes to go quiet, and reports the CPU share they used during the rounds.
Before timing, every cell is checked: an encoder's token must verify with the floor and
round-trip the claims; a verifier must return the claims of a good token and reject one
with a tampered payload and one that expired an hour ago. A failing cell prints FAIL and
is not timed.

The floor and the primitive are in ``tokens_floor.py``, the peers' set-up in ``tokens_peers.py``;
both, and the method, are adapted from the yardstick the project's peers were first measured with.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from harness.report import fmt_us
from harness.report import markdown_table as table
from harness.timing import Cell, load_summary, paired_diff_us, paired_ratio, paired_rel_iqr, run_rounds
from tokens_floor import ALGS, Fn, floor_callables, make_keys, make_payload, parse_only, primitive_callables
from tokens_peers import FACTORIES

OPS = ("encode", "verify")
LIBS = ("jwtkit", "pyjwt", "joserfc", "jwcrypto", "python-jose", "authlib")
DISTS = ("cryptography", "PyJWT", "joserfc", "jwcrypto", "python-jose", "Authlib", "orjson")
# The targets: jwtkit / floor at most this (per alg, op); HS256 verify also >= 3x PyJWT.
TARGETS = {("HS256", "verify"): 1.5, ("HS256", "encode"): 1.5}
DEFAULT_TARGET = 1.1
PYJWT_SPEEDUP_TARGET = 3.0


# ---------------------------------------------------------------- checks
def check_cell(op: str, fn: Fn, floor: Mapping[str, Fn]) -> str | None:
    """None when ``fn`` behaves correctly, else a short reason."""
    try:
        if op == "encode":
            payload = make_payload()
            tok = fn(payload)
            if isinstance(tok, bytes):
                tok = tok.decode()
            return None if floor["verify"](tok) == payload else "claims differ"
        good = make_payload()
        tok = floor["encode"](good)
        if dict(fn(tok)) != good:
            return "claims differ"
        h, _, s = tok.split(".")
        tampered = h + "." + floor["encode"](dict(good, user_id=124)).split(".")[1] + "." + s
        expired = floor["encode"](make_payload(int(time.time()) - 7200, exp_in=3600))
        for bad, what in ((tampered, "a tampered payload"), (expired, "an expired token")):
            try:
                fn(bad)
            except Exception:  # every library raises its own error type
                continue
            return f"accepted {what}"
        return None
    except Exception as e:
        return f"{type(e).__name__}: {e}"[:80]


# ---------------------------------------------------------------- formatting
def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("jwtkit", *DISTS):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


# ---------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="µs per JWT encode/verify: jwtkit, its peers and the floor")
    ap.add_argument("--quick", action="store_true", help="smoke run: 10 ms batches, 5 rounds, no waiting for quiet")
    ap.add_argument("--rounds", type=int, help="number of rounds (default 41, quick 5)")
    ap.add_argument("--target", type=float, help="seconds per timed batch (default 0.025, quick 0.01)")
    ap.add_argument("--quiet-budget", type=float,
                    help="seconds the run may wait in all for other processes to go quiet (default 120, quick 0)")
    ap.add_argument("--libs", help=f"comma-separated subset of {','.join(LIBS)}")
    ap.add_argument("--json", metavar="FILE", help="also write every sample and the summary as JSON")
    args = ap.parse_args(argv)
    rounds = args.rounds or (5 if args.quick else 41)
    target = args.target or (0.01 if args.quick else 0.025)
    quiet_budget = args.quiet_budget if args.quiet_budget is not None else (0.0 if args.quick else 120.0)
    libs = [name for name in (args.libs.split(",") if args.libs else LIBS) if name]
    warnings.filterwarnings("ignore")  # peers' deprecation notices (authlib.jose, joserfc EdDSA)

    keys = make_keys()
    floors = {alg: floor_callables(alg, keys[alg]) for alg in ALGS}
    try:
        floors_oj: dict[str, dict[str, Fn]] = {alg: floor_callables(alg, keys[alg], True) for alg in ALGS}
    except ImportError:
        floors_oj = {}

    impls: dict[str, dict[tuple[str, str], Fn]] = {}
    for name in libs:
        try:
            impls[name] = FACTORIES[name](keys)
        except ImportError as e:
            print(f"{name}: not installed ({e}); skipped", file=sys.stderr)
    columns = list(impls)

    # Per round: a fresh payload and fresh tokens (exp = now + 300), the signing input and
    # the raw primitive signature over it (DER for ECDSA).
    prims = {alg: primitive_callables(alg, keys[alg]) for alg in ALGS}

    def make_args() -> dict[str, Any]:
        out: dict[str, Any] = {"payload": make_payload()}
        for alg in ALGS:
            tok = floors[alg]["encode"](make_payload())
            si = tok.encode().rsplit(b".", 1)[0]
            out[alg] = {"token": tok, "si": si, "si_sig": (si, prims[alg]["encode"](si))}
        return out

    def arg_of(alg: str, kind: str) -> Callable[[dict[str, Any]], Any]:
        if kind == "payload":
            return lambda a: a["payload"]
        return lambda a: a[alg][kind]

    cells: list[Cell] = []
    status: dict[tuple[str, str, str], str] = {}
    for alg in ALGS:
        enc_g, ver_g = (alg, "encode"), (alg, "verify")
        cells.append(Cell(("primitive", alg, "encode"), enc_g, prims[alg]["encode"], arg_of(alg, "si")))
        cells.append(Cell(("primitive", alg, "verify"), ver_g, prims[alg]["verify"], arg_of(alg, "si_sig")))
        cells.append(Cell(("parse-only", alg, "verify"), ver_g, parse_only, arg_of(alg, "token")))
        candidates: list[tuple[str, str, Fn | None]] = [("floor", op, floors[alg][op]) for op in OPS]
        candidates += [("floor-orjson", op, floors_oj[alg][op]) for op in OPS if floors_oj]
        candidates += [(col, op, impls[col].get((alg, op))) for col in columns for op in OPS]
        for col, op, fn in candidates:
            if fn is None:
                status[(col, alg, op)] = "n/a"
                continue
            err = check_cell(op, fn, floors[alg])
            if err:
                status[(col, alg, op)] = "FAIL: " + err
                print(f"{col} {alg} {op}: FAIL {err}", file=sys.stderr)
                continue
            kind = "payload" if op == "encode" else "token"
            cells.append(Cell((col, alg, op), (alg, op), fn, arg_of(alg, kind)))

    print(f"timing {len(cells)} cells x {rounds} rounds, ~{target * 1000:.0f} ms per batch", file=sys.stderr)
    stats = run_rounds(cells, make_args, target=target, rounds=rounds, quiet_budget=quiet_budget)
    res = {c.key: c for c in cells}

    def us(key: tuple[str, str, str]) -> float | None:
        c = res.get(key)
        return c.median_us() if c else None

    def ratio(col: str, alg: str, op: str, den: str = "floor") -> float | None:
        return paired_ratio(res.get((col, alg, op)), res.get((den, alg, op)))

    def cell_text(col: str, alg: str, op: str) -> str:
        key = (col, alg, op)
        if key in status:
            return "n/a" if status[key] == "n/a" else "FAIL"
        r = ratio(col, alg, op)
        return f"{fmt_us(us(key))} ({r:.2f}x)" if r is not None else fmt_us(us(key))

    vers = versions()
    lines = [
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {os.cpu_count()} CPUs, {platform.machine()}, "
        f"{platform.system()} {platform.release()}",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()),
        f"Mode: {'quick' if args.quick else 'full'}: {rounds} rounds x ~{target * 1000:.0f} ms batches per cell; "
        f"wall {stats.elapsed:.0f} s.",
        "",
        "### µs per operation (paired ratio to the floor)",
        "",
    ]
    rows = []
    for alg in ALGS:
        for op in OPS:
            row = [alg, op, fmt_us(us(("primitive", alg, op))), fmt_us(us(("floor", alg, op)))]
            row += [cell_text(col, alg, op) for col in columns]
            speedup = ratio("pyjwt", alg, op, den="jwtkit") if "jwtkit" in columns else None
            row.append("n/a" if speedup is None else f"{speedup:.2f}x")
            rows.append(row)
    lines += table(["alg", "op", "primitive", "floor", *columns, "jwtkit speed-up over PyJWT"], rows)
    lines += [
        "",
        "primitive = the raw pyca call on the signing input; floor = the minimal complete pipeline "
        "(split, base64url, stdlib json, pyca sign/verify, exp/iat check). "
        "Ratios and the speed-up are medians over rounds of same-round ratios.",
        "",
        "### Overhead over the floor, µs per operation (median of same-round differences)",
        "",
    ]
    rows = []
    for alg in ALGS:
        for op in OPS:
            row = [alg, op]
            for col in ("primitive", "floor-orjson", *columns):
                key = (col, alg, op)
                d = None if key in status else paired_diff_us(res.get(key), res.get(("floor", alg, op)))
                row.append("n/a" if d is None else f"{d:+.2f}")
            rows.append(row)
    lines += table(["alg", "op", "primitive", "floor-orjson", *columns], rows)
    lines += [
        "",
        "primitive's negative figure is the JWS framing cost of the floor (JSON, base64url, split, claim checks); "
        "floor-orjson shows what orjson would save.",
    ]
    summary: dict[str, Any] = {}
    if "jwtkit" in columns:
        lines += ["", "### jwtkit against the targets (issue 2)", ""]
        rows = []
        for alg in ALGS:
            for op in OPS:
                limit = TARGETS.get((alg, op), DEFAULT_TARGET)
                r = ratio("jwtkit", alg, op)
                verdict = "n/a" if r is None else ("met" if r <= limit else "missed")
                rows.append([alg, op, f"<= {limit}x floor", "n/a" if r is None else f"{r:.2f}x", verdict])
                summary[f"{alg} {op}"] = {"ratio_to_floor": r, "target": limit,
                                          "speedup_over_pyjwt": ratio("pyjwt", alg, op, den="jwtkit")}
        s = ratio("pyjwt", "HS256", "verify", den="jwtkit")
        rows.append(["HS256", "verify", f">= {PYJWT_SPEEDUP_TARGET}x faster than PyJWT",
                     "n/a" if s is None else f"{s:.2f}x", "n/a" if s is None else
                     ("met" if s >= PYJWT_SPEEDUP_TARGET else "missed")])
        lines += table(["alg", "op", "target", "measured", "verdict"], rows)
    spreads = [c.rel_iqr() for c in cells]
    pspreads = [paired_rel_iqr(c, res[("floor", *c.key[1:])]) for c in cells
                if c.key[0] in columns and ("floor", *c.key[1:]) in res]
    lines += [
        "",
        f"Noise: relative IQR over rounds of raw per-op times: median {statistics.median(spreads) * 100:.1f}%, "
        f"max {max(spreads) * 100:.1f}%; of the paired ratios to the floor: median "
        f"{statistics.median(pspreads) * 100 if pspreads else 0:.1f}%, max {max(pspreads, default=0) * 100:.1f}%.",
        load_summary(stats),
    ]
    print("\n".join(lines))

    if args.json:
        with open(args.json, "w") as fh:
            json.dump({
                "versions": vers, "rounds": rounds, "target_s": target, "cpus": os.cpu_count(),
                "foreign_load": stats.foreign, "waited_s": stats.waited, "jwtkit_summary": summary,
                "cells": {"|".join(c.key): {"median_us": c.median_us(), "number": c.number,
                                            "ratio_to_floor": paired_ratio(c, res.get(("floor", *c.key[1:]))),
                                            "samples_us": [s * 1e6 for s in c.samples]} for c in cells},
                "status": {"|".join(k): v for k, v in status.items()},
            }, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
