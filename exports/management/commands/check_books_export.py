from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from exports.inputs import as_options, clean_export
from exports.reconcile import HledgerMissing, HledgerRefused, compare
from otb.operations import InvalidInput
from settings_app.selectors import business_today


class Command(BaseCommand):
    help = _(
        "Export the journal of a date range, have hledger check it, and compare its balances "
        "with the reports (receivables at the end date, income, each tax, exchange "
        "differences). Exits with an error where they differ. Needs hledger "
        "(apt-get install hledger)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--start", required=True, help=_("First day, YYYY-MM-DD."))
        parser.add_argument("--end", required=True, help=_("Last day, YYYY-MM-DD."))

    def handle(self, *args, **options):
        try:
            asked = clean_export(format_key="hledger", start=options["start"], end=options["end"])
        except InvalidInput as exc:
            raise CommandError(as_options(exc)) from None
        try:
            differences = compare(asked.books(), today=business_today())
        except HledgerMissing as exc:
            raise CommandError(str(exc)) from exc
        except HledgerRefused as exc:
            raise CommandError(
                _("hledger refused the journal: %(error)s") % {"error": exc}
            ) from exc
        if differences:
            for difference in differences:
                self.stdout.write(str(difference))
            raise CommandError(_("The journal's balances differ from the reports."))
        self.stdout.write(
            _(
                "OK: hledger checked the journal of %(start)s to %(end)s, and its balances "
                "equal the reports."
            )
            % {"start": asked.start.isoformat(), "end": asked.end.isoformat()}
        )
