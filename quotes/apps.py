from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


class QuotesConfig(AppConfig):
    name = "quotes"
    verbose_name = _("Quotes")

    def seed_demo(self, demo) -> str:
        """The demo's quotes, one in every state: billing's ``seed_demo`` calls this on
        every app that has it (billing builds no quote itself: quotes build on billing).
        Returns what it made, for the command's summary."""
        from .demo import add_quotes

        count = add_quotes(demo)
        return ngettext("%(count)d quote", "%(count)d quotes", count) % {"count": count}
