from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from outbox.delivery import deliver_due, recover_stalled
from outbox.models import MessageStatus


class Command(BaseCommand):
    help = _(
        "Send the queued e-mail whose (next) attempt is due: retries of temporary failures, "
        "with back-off. Run it every few minutes (the systemd timer does); overlapping runs "
        "never send a message twice."
    )

    def handle(self, *args, **options):
        stalled = recover_stalled()
        if stalled:
            self.stdout.write(
                _("%(count)d message(s) left half-sent by a stopped process: marked failed.")
                % {"count": stalled}
            )
        report_deliveries(self.stdout, deliver_due())


def report_deliveries(out, delivered) -> None:
    """One line per message: sent, to be retried, or failed and why."""
    counts = dict.fromkeys(MessageStatus.values, 0)
    for message in delivered:
        counts[message.status] += 1
        about = message.invoice or message.get_kind_display()
        if message.status == MessageStatus.SENT:
            out.write(_("Sent: %(about)s to %(to)s") % {"about": about, "to": message.to_addresses})
        elif message.status == MessageStatus.QUEUED:
            out.write(
                _("Will retry: %(about)s to %(to)s: %(problem)s")
                % {"about": about, "to": message.to_addresses, "problem": message.problem}
            )
        elif message.status == MessageStatus.FAILED:
            out.write(
                _("FAILED: %(about)s to %(to)s: %(problem)s")
                % {"about": about, "to": message.to_addresses, "problem": message.problem}
            )
    out.write(
        _("%(sent)d sent, %(retry)d to retry later, %(failed)d failed.")
        % {
            "sent": counts[MessageStatus.SENT],
            "retry": counts[MessageStatus.QUEUED],
            "failed": counts[MessageStatus.FAILED],
        }
    )
