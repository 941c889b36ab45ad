"""Billing's answers to the signals of the apps below it; connected in ``BillingConfig.ready``."""

from django.utils.translation import gettext as _

from ledger.events import Event
from otb.operations import InvalidInput

from . import accounting, pdf
from .rules import base_currency_fixed


def on_business_settings_changed(sender, *, settings, changed: set[str], **kwargs) -> None:
    """A new time zone moves the day a reversal counts from: the spans that depend on it are
    derived again, in the transaction that saved the settings. A new base currency is
    refused once a figure is kept in the old one (the error refuses the whole change)."""
    if "default_currency" in changed and base_currency_fixed():
        raise InvalidInput.single(
            "default_currency",
            _(
                "Base currency: the books already hold figures in the base currency of "
                "issued documents; it cannot change any more. A client's currency can."
            ),
        )
    if "time_zone" in changed:
        accounting.refresh_spans_after_time_zone_change()


def forget_cached_pdf(sender, *, event, **kwargs) -> None:
    """A money event changes what the invoice's document shows (amount paid, status, total):
    its cached PDF is dropped once the event has committed, instead of lingering until the
    next render replaces it."""
    # A just-issued invoice has no cached PDF yet (drafts are never cached): no query.
    if event.invoice_id is not None and event.event != Event.INVOICE_ISSUED:
        pdf.forget(invoice_id=event.invoice_id)
