"""Billing's answers to the signals of the apps below it; connected in ``BillingConfig.ready``."""

from ledger.events import Event

from . import accounting, pdf


def on_business_settings_changed(sender, *, changed: set[str], **kwargs) -> None:
    """A new time zone moves the day a reversal counts from: the spans that depend on it are
    derived again, in the transaction that saved the settings."""
    if "time_zone" in changed:
        accounting.refresh_spans_after_time_zone_change()


def forget_cached_pdf(sender, *, event, **kwargs) -> None:
    """A money event changes what the invoice's document shows (amount paid, status, total):
    its cached PDF is dropped once the event has committed, instead of lingering until the
    next render replaces it."""
    # A just-issued invoice has no cached PDF yet (drafts are never cached): no query.
    if event.invoice_id is not None and event.event != Event.INVOICE_ISSUED:
        pdf.forget(invoice_id=event.invoice_id)
