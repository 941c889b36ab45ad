from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.models import Client
from billing.selectors import clients_breaking_invariant, expected_balance
from ledger.selectors import client_balance


class Command(BaseCommand):
    help = _(
        "Check, for every client, that the ledger balance equals what invoices, payments and "
        "manual entries say it should be. Exits with an error if any client differs."
    )

    def handle(self, *args, **options):
        broken = clients_breaking_invariant()
        if not broken:
            count = Client.objects.count()
            self.stdout.write(
                ngettext(
                    "OK: the ledger agrees with invoices and payments for %(count)d client.",
                    "OK: the ledger agrees with invoices and payments for %(count)d clients.",
                    count,
                )
                % {"count": count}
            )
            return
        for client in broken:
            self.stdout.write(
                _("%(client)s: ledger balance %(ledger)s, invoices and payments say %(expected)s")
                % {
                    "client": client,
                    "ledger": client_balance(client),
                    "expected": expected_balance(client),
                }
            )
        raise CommandError(
            ngettext(
                "%(count)d client's ledger disagrees with its invoices and payments.",
                "%(count)d clients' ledgers disagree with their invoices and payments.",
                len(broken),
            )
            % {"count": len(broken)}
        )
