from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing import outstanding


class Command(BaseCommand):
    help = _(
        "Derive again what every issued invoice had outstanding day by day (the reports read "
        "it), from the ledger and the payments; with --check, only say which invoices differ."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help=_("Write nothing; exit with an error if any invoice's stored spans differ."),
        )

    def handle(self, *args, check, **options):
        if check:
            stale = outstanding.stale()
            if stale:
                raise CommandError(
                    ngettext(
                        "%(count)d invoice's outstanding spans differ from its ledger and "
                        "payments (ids: %(ids)s); run rebuild_outstanding.",
                        "%(count)d invoices' outstanding spans differ from their ledger and "
                        "payments (ids: %(ids)s); run rebuild_outstanding.",
                        len(stale),
                    )
                    % {"count": len(stale), "ids": ", ".join(map(str, stale[:20]))}
                )
            self.stdout.write(_("OK: every invoice's outstanding spans agree with its ledger."))
            return
        with transaction.atomic():
            written = outstanding.rebuild()
        self.stdout.write(
            ngettext(
                "Wrote %(count)d outstanding span.", "Wrote %(count)d outstanding spans.", written
            )
            % {"count": written}
        )
