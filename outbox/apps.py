from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "outbox"
    verbose_name = _("E-mail outbox")

    def ready(self) -> None:
        from billing.accounting import money_event_committed

        from .receivers import send_receipt

        money_event_committed.connect(send_receipt, dispatch_uid="outbox.send_receipt")
