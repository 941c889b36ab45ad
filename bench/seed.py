"""Fill an empty database with realistic volume for the benchmarks (bench/volume.py).

    .venv/bin/python -m bench.seed [--clients N] [--invoices M] [--seed S] [--years Y]
                                   [--batch B] [--check]

Years of clients, invoices (1–20 lines), payments (partial, overpaid, reversed) and ledger
entries on the database DATABASE_URL names, with the instance's settings (bench/settings.py),
consistent with the ledger invariant; the same --seed gives the same data. For benchmarks,
never for a real instance: it refuses a database that already holds billing data.

The exit status is 2 for a bad argument, 1 when the database is not empty or --check finds a
client whose ledger and balance disagree, else 0.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

from bench.run import setup_django

PROG = "python -m bench.seed"
# Each numeric option and the least value it takes.
LEAST = {"clients": 1, "invoices": 0, "years": 1, "batch": 1}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The arguments; a bad one ends the program (status 2) with a message naming it."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Fill an empty database with realistic volume for the benchmarks.",
    )
    parser.add_argument("--clients", type=int, default=10_000, help="default 10,000")
    parser.add_argument("--invoices", type=int, default=1_000_000, help="default 1,000,000")
    parser.add_argument("--seed", type=int, default=1, help="same seed, same data (default 1)")
    parser.add_argument("--years", type=int, default=10, help="history up to today (default 10)")
    parser.add_argument(
        "--batch", type=int, default=2000, help="invoices written per transaction (default 2000)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="then check the ledger invariant for every client (slow on big data)",
    )
    args = parser.parse_args(argv)
    for name, least in LEAST.items():
        value = getattr(args, name)
        if value < least:
            parser.error(f"--{name} must be {least} or more, not {value}.")
    return args


def seed(args: argparse.Namespace, *, out: TextIO, err: TextIO) -> int:
    """Fill the database as ``args`` say (Django set up); returns the exit status."""
    # Here, not at the top: the models can be imported only once Django is set up.
    from bench.volume import NotEmpty, fill, report
    from billing.selectors import clients_breaking_invariant

    started = time.monotonic()
    try:
        counts = fill(
            clients=args.clients,
            invoices=args.invoices,
            seed=args.seed,
            years=args.years,
            batch=args.batch,
            progress=err,
        )
    except NotEmpty as refusal:
        err.write(f"{PROG}: {refusal}\n")
        return 1
    report(counts, out)
    out.write(f"Took {time.monotonic() - started:.0f} s.\n")
    if args.check:
        broken = clients_breaking_invariant()
        if broken:
            codes = ", ".join(client.code for client in broken[:10])
            err.write(f"{PROG}: the ledger invariant fails for {len(broken)}: {codes}\n")
            return 1
        out.write("The ledger invariant holds for every client.\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_django()
    return seed(args, out=sys.stdout, err=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
