from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from billing.money import plain_decimal
from billing.services.exchange import documents_without_rate, fill_missing_rates


class Command(BaseCommand):
    help = _(
        "List the issued documents in another currency that have no exchange rate yet (issued "
        "before rates were kept). With --fill, give each the newest stored rate on or before "
        "its issue date (a credit note its invoice's rate) and its base-currency figures."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--fill",
            action="store_true",
            help=_("Give each the newest stored rate on or before its date."),
        )

    def handle(self, *args, fill=False, **options):
        if fill:
            results = fill_missing_rates(acting_user=None)
            missing = [r.document for r in results if r.filled_with is None]
            for result in results:
                if result.filled_with is not None:
                    self.stdout.write(
                        _("%(document)s (%(currency)s, %(date)s): rate %(rate)s")
                        % self._values(result.document)
                    )
        else:
            missing = documents_without_rate()
        for document in missing:
            self.stdout.write(
                _("%(document)s (%(currency)s, %(date)s): no rate") % self._values(document)
            )
        if missing:
            self.stdout.write(
                _(
                    "%(count)d document(s) without an exchange rate: enter or import rates for "
                    "their dates, then run manage.py check_rates --fill."
                )
                % {"count": len(missing)}
            )
        else:
            self.stdout.write(_("Every issued document has an exchange rate."))

    @staticmethod
    def _values(document):
        return {
            "document": document,
            "currency": document.currency,
            "date": getattr(document, "issue_date", None) or document.date,
            "rate": plain_decimal(document.exchange_rate) if document.exchange_rate else "",
        }
