from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from otb.operations import DomainError
from rates.importing import ECB_DAILY_URL, default_source, fetch_source, import_rates


class Command(BaseCommand):
    help = _(
        "Import the ECB's euro reference rates from a file or an address (XML, CSV, or a zip "
        "of one) and store them in the base currency. Without one, it reads OTB_RATES_URL, "
        "else %(url)s. Run it daily (the optional timer of deploy/README.md); running it "
        "again changes nothing."
    ) % {"url": ECB_DAILY_URL}

    def add_arguments(self, parser):
        parser.add_argument(
            "source",
            nargs="?",
            metavar="FILE_OR_URL",
            help=_("a file of the ECB's rates, or its http(s) address"),
        )

    def handle(self, *args, source=None, **options):
        source = source or default_source()
        try:
            summary = import_rates(data=fetch_source(source), acting_user=None, origin=source)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(summary.describe())
