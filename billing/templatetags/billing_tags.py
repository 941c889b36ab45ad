"""Template filters for money and statuses, so every page formats them one way."""

from decimal import Decimal

from django import template
from django.utils.html import format_html

from billing.models import InvoiceStatus, PaymentStatus
from billing.money import format_money, format_number, format_price, plain_decimal
from billing.rules import invoice_lock_reason
from otb.countries import country_name

register = template.Library()


@register.filter
def money(amount, currency=""):
    """{{ invoice.total|money:invoice.currency }} -> 1,190.00 CAD"""
    return format_money(amount, currency)


@register.filter
def country(code):
    """{{ client.country|country }} -> Germany"""
    return country_name(code) if code else ""


@register.filter
def neg(amount):
    """{{ entry.amount|neg|money }}: a debit shown as the positive charge it is."""
    return -amount


@register.filter
def plain(value):
    """{{ line.quantity|plain }} -> 1.5 (no trailing zeros, never 1E+2)"""
    return "" if value is None else plain_decimal(value)


@register.filter
def number(value):
    """{{ line.quantity|number }} -> 1,250.5 (grouped, no trailing zeros)"""
    return "" if value is None else format_number(value)


@register.filter
def price(value, currency=""):
    """{{ service.unit_price|price }} -> 6,400.00; 0.6125 stays 0.6125"""
    return "" if value is None else format_price(value, currency)


@register.filter
def sign_class(amount) -> str:
    """CSS class for a balance: green credit, red owing, grey zero (SPEC: Client ledger)."""
    if amount is None:
        return ""
    amount = Decimal(amount)
    return "text-success" if amount > 0 else "text-danger" if amount < 0 else "text-secondary"


STATUS_COLOURS = {
    "draft": "secondary",
    "pending": "primary",
    "partial": "warning",
    "paid": "success",
    "overdue": "danger",
    "cancelled": "dark",
    "credited": "info",
    "issued": "primary",
    "confirmed": "success",
    "reversed": "danger",
    # e-mail messages (outbox)
    "queued": "info",
    "sending": "info",
    "sent": "success",
    "failed": "danger",
}


STATUS_LABELS = {**dict(PaymentStatus.choices), **dict(InvoiceStatus.choices)}


@register.simple_tag
def status_badge(value: str, label: str | None = None):
    """<span class="badge text-bg-…">Label</span> for an invoice or payment status."""
    colour = STATUS_COLOURS.get(value, "secondary")
    return format_html(
        '<span class="badge text-bg-{} status-{}">{}</span>',
        colour,
        value,
        label or STATUS_LABELS.get(value, value),
    )


@register.simple_tag
def lock_reason(invoice, business=None) -> str | None:
    """{% lock_reason invoice [business] as reason %}: why the invoice cannot change now, or
    None. ``business``: the settings the page already read, to save reading them again."""
    return invoice_lock_reason(invoice, settings=business or None)
