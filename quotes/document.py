"""The quote document: page, print and PDF from the invoice's template family
(``billing/invoice_document.html`` with ``doc.kind == "quote"``), and the key of the version
a client reads, which an acceptance must name."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from billing import pdf
from billing.money import plain_decimal
from settings_app.models import BusinessSettings
from settings_app.selectors import business_today, get_business_settings

from .models import Quote, QuoteState
from .rules import shown_state


def load_quote(**lookup: Any) -> Quote:
    """The quote with everything its document shows. Raises Quote.DoesNotExist."""
    return (
        Quote.objects.select_related("client", "invoice")
        .prefetch_related("lines", "taxes")
        .get(**lookup)
    )


def quote_data(
    quote: Quote, *, business: BusinessSettings | None = None, today: Any = None
) -> dict[str, Any]:
    """Every value the quote document shows, as plain data, like ``pdf.document_data`` for
    an invoice: titled QUOTE, with its "valid until" date and terms."""
    business = business or get_business_settings()
    today = today or business_today(business)
    state = shown_state(quote, today=today)
    discount_label = _("Discount")
    if quote.discount_kind == "percent":
        discount_label = _("Discount %(rate)s %%") % {"rate": plain_decimal(quote.discount_value)}
    return {
        **pdf.common_data(quote, business),
        "kind": "quote",
        "title": (
            _("Quote %(number)s") % {"number": quote.number} if quote.number else _("Draft quote")
        ),
        "status": state,
        "status_label": str(QuoteState(state).label),
        "valid_until": quote.valid_until,
        "notes": quote.notes,
        "terms": quote.terms,
        "discount_label": discount_label,
    }


def version_key(data: dict[str, Any]) -> str:
    """The SHA-256 that names this version of the quote as the client reads it: it changes
    exactly when the document would (``pdf.document_key``). The accept form carries it, and
    an acceptance of a version that is no longer the current one is refused."""
    return pdf.document_key(data)


def quote_pdf(quote: Quote, *, data: dict[str, Any] | None = None, request: Any = None) -> bytes:
    """The quote's PDF, rendered from the invoice template family. Not cached: what is
    accepted or e-mailed is archived by its SHA-256."""
    return pdf.render_document_pdf(data or quote_data(quote), request=request)


def quote_filename(quote: Quote) -> str:
    return f"{quote.number}.pdf" if quote.number else f"draft-quote-{quote.pk}.pdf"
