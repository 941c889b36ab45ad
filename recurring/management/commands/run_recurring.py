import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from recurring.run import run_recurring
from settings_app.selectors import business_today


class Command(BaseCommand):
    help = _(
        "Make the invoices of every recurring schedule that are due, each exactly once, "
        "however often it runs and on however many servers at once. Run it daily (the "
        "maintenance timer does)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            help=_(
                "Run as of this date (YYYY-MM-DD, not after today) instead of the business's "
                "today: the dates up to it are made."
            ),
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("Print what would be made, and make nothing."),
        )
        parser.add_argument(
            "--catch-up",
            type=int,
            help=_(
                "At most this many invoices per schedule in this run (default: "
                "OTB_RECURRING_CATCH_UP, 12)."
            ),
        )

    def handle(self, *args, date=None, dry_run=False, catch_up=None, **options):
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
                # An invoice is never made before its date.
                raise CommandError(
                    _("--date: %(value)s is after today (%(today)s); use today or an earlier date.")
                    % {"value": as_of.isoformat(), "today": today.isoformat()}
                )
        if catch_up is not None and catch_up < 1:
            raise CommandError(_("--catch-up: give a whole number of 1 or more."))
        report = run_recurring(today=as_of, dry_run=dry_run, catch_up=catch_up)
        heading = (
            _("Recurring invoices as of %(date)s (dry run: nothing was made)")
            if dry_run
            else _("Recurring invoices as of %(date)s")
        )
        self.stdout.write(heading % {"date": as_of.isoformat()})
        sections = [
            (_("Would make") if dry_run else _("Made"), report.made),
            (_("Left as drafts"), report.held),
            (_("Would skip") if dry_run else _("Skipped"), report.skipped),
            (_("E-mailed"), report.emailed),
            (_("Ended"), report.ended),
        ]
        for title, lines in sections:
            if lines:
                self.stdout.write(f"{title} ({len(lines)}):")
                for line in lines:
                    self.stdout.write(f"  {line}")
        if not any(lines for _title, lines in sections):
            self.stdout.write(_("Nothing was due.") if not dry_run else _("Nothing is due."))
        for line in report.warnings:
            self.stderr.write(_("Warning: %(line)s") % {"line": line})
        for line in report.problems:
            self.stderr.write(_("Problem: %(line)s") % {"line": line})
        if report.problems:
            raise CommandError(
                _("%(count)d schedule(s) could not be run in full; see the problems above.")
                % {"count": len(report.problems)}
            )
