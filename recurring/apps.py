from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


class RecurringConfig(AppConfig):
    name = "recurring"
    verbose_name = _("Recurring invoices")

    def seed_demo(self, demo) -> str:
        """The demo's recurring schedules: billing's ``seed_demo`` calls this on every app
        that has it. Nothing is billed here; ``manage.py run_recurring`` (the quick start
        runs it after the seed) makes what is due. Returns what it made, for the summary."""
        from .demo import add_schedules

        count = add_schedules(demo)
        return ngettext("%(count)d recurring schedule", "%(count)d recurring schedules", count) % {
            "count": count
        }
