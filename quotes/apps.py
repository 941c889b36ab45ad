from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuotesConfig(AppConfig):
    name = "quotes"
    verbose_name = _("Quotes")

    def seed_demo(self, demo) -> None:
        """The demo's quotes, one in every state: billing's ``seed_demo`` calls this on
        every app that has it (billing builds no quote itself: quotes build on billing)."""
        from .demo import add_quotes

        add_quotes(demo)
