import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.services import refresh_overdue
from settings_app.selectors import business_today


class Command(BaseCommand):
    help = _(
        "Move issued invoices whose due date has passed to overdue. Run it daily (cron or a "
        "systemd timer); running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            help=_(
                "Run as of this date (YYYY-MM-DD, not after today) instead of the business's today."
            ),
        )

    def handle(self, *args, date=None, **options):
        today = business_today()
        as_of = today
        if date:
            try:
                as_of = datetime.date.fromisoformat(date.strip())
            except ValueError:
                raise CommandError(
                    _("--date: “%(value)s” is not a date; use YYYY-MM-DD, such as 2026-03-31.")
                    % {"value": date}
                ) from None
            if as_of > today:
                # Overdue means "today is after the due date" (SPEC): a future date would mark
                # invoices overdue that are not.
                raise CommandError(
                    _("--date: %(value)s is after today (%(today)s); use today or an earlier date.")
                    % {"value": as_of.isoformat(), "today": today.isoformat()}
                )
        moved = refresh_overdue(today=as_of)
        self.stdout.write(
            ngettext(
                "%(count)d invoice moved to overdue (as of %(date)s).",
                "%(count)d invoices moved to overdue (as of %(date)s).",
                moved,
            )
            % {"count": moved, "date": as_of.isoformat()}
        )
