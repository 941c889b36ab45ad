from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from outbox.services import queue_due_reminders, site_address_known
from settings_app.selectors import get_business_settings

from .process_outbox import report_deliveries


class Command(BaseCommand):
    help = _(
        "Send the payment reminders due today: each active reminder stage once per unpaid "
        "invoice, never twice, however often or concurrently it runs. Run it daily."
    )

    def handle(self, *args, **options):
        business = get_business_settings()
        if not business.send_reminders:
            self.stdout.write(_("Reminders are off in the settings; nothing sent."))
            return
        if not business.smtp_configured:
            self.stdout.write(
                _("E-mail is not set up (SMTP host and from address); no reminder sent.")
            )
            return
        if not site_address_known():
            self.stdout.write(
                _(
                    "The address of this site is not known, and each reminder carries the "
                    "client's link to its invoice: set OTB_BASE_URL. No reminder sent; the "
                    "next run sends the ones due meanwhile."
                )
            )
            return
        queued = queue_due_reminders()
        # Each was delivered as its transaction committed; read how that went.
        for message in queued:
            message.refresh_from_db()
        report_deliveries(self.stdout, queued)
