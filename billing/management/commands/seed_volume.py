"""Fill an empty database with realistic volume for benchmarks (billing/volume.py)."""

import time

from django.core.management.base import BaseCommand, CommandError

from billing.selectors import clients_breaking_invariant
from billing.volume import NotEmpty, fill, report


class Command(BaseCommand):
    help = (
        "Fill an empty database with years of clients, invoices (1–20 lines), payments "
        "(partial, overpaid, reversed) and ledger entries, consistent with the ledger "
        "invariant; the same --seed gives the same data. For benchmarks (bench/), never for "
        "a real instance."
    )

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=10_000)
        parser.add_argument("--invoices", type=int, default=1_000_000)
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same data.")
        parser.add_argument("--years", type=int, default=10, help="History up to today.")
        parser.add_argument(
            "--batch", type=int, default=2000, help="Invoices written per transaction."
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Then check the ledger invariant for every client (slow on big data).",
        )

    def handle(self, *args, clients, invoices, seed, years, batch, check, **options):
        for name, value, least in (
            ("--clients", clients, 1),
            ("--invoices", invoices, 0),
            ("--years", years, 1),
            ("--batch", batch, 1),
        ):
            if value < least:
                raise CommandError(f"{name} must be {least} or more, not {value}.")
        started = time.monotonic()
        try:
            counts = fill(
                clients=clients,
                invoices=invoices,
                seed=seed,
                years=years,
                batch=batch,
                progress=self.stderr,
            )
        except NotEmpty as exc:
            raise CommandError(str(exc)) from None
        report(counts, self.stdout)
        self.stdout.write(f"Took {time.monotonic() - started:.0f} s.")
        if check:
            broken = clients_breaking_invariant()
            if broken:
                codes = ", ".join(c.code for c in broken[:10])
                raise CommandError(f"The ledger invariant fails for {len(broken)}: {codes}")
            self.stdout.write("The ledger invariant holds for every client.")
