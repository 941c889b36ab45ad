from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        # Here, not at the top: the receivers use the models, loaded only by now.
        from settings_app.signals import business_settings_changed

        from . import receivers

        business_settings_changed.connect(
            receivers.on_business_settings_changed,
            dispatch_uid="billing.on_business_settings_changed",
        )
        receivers.accounting.money_event_committed.connect(
            receivers.forget_cached_pdf, dispatch_uid="billing.forget_cached_pdf"
        )
