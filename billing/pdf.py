"""The invoice document: what it shows, its PDF, and the cache of rendered PDFs.

The page (billing/views/documents.py) and the PDF render the same template,
``billing/invoice_document.html``, from the same plain data built by ``document_data``. The
data holds every value the document shows and nothing else, so its SHA-256 (with the
template and stylesheet) is a key that changes exactly when the document would.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
from typing import Any, cast
from urllib.parse import quote, unquote, urlsplit

from django.conf import settings as django_settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.files.storage import default_storage
from django.db import DatabaseError, IntegrityError, OperationalError, transaction
from django.template.loader import get_template, render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from otb.countries import country_name
from otb.operations import is_retryable
from settings_app.models import BusinessSettings
from settings_app.selectors import business_today, get_business_settings

from .models import CreditNote, CreditNoteStatus, Invoice, InvoiceStatus, RenderedPdf
from .money import format_money, format_number, format_price, plain_decimal
from .rules import derive_status, no_tax_reason

logger = logging.getLogger(__name__)

DOCUMENT_TEMPLATE = "billing/invoice_document.html"
PDF_TEMPLATE = "billing/invoice_pdf.html"
STYLESHEET = "otb/invoice.css"

# Any URL will do: it only gives the template's relative URLs (/static/..., the logo) an
# origin, and DocumentFetcher answers them from the files, never from the network.
PDF_BASE_URL = "https://otb-billing.invalid/"
# The logo is read through the storage by name, so it works with any storage backend.
UPLOAD_PREFIX = "/__upload__/"


# --- What the document shows --------------------------------------------------------------
def load_invoice(*, with_payments: bool = True, **lookup) -> Invoice:
    """The invoice with everything the document and page show, in a fixed number of queries.

    The document alone (the PDF) lists no payments: ``with_payments=False`` saves their query
    on every PDF request, cached or not. Raises Invoice.DoesNotExist.
    """
    related = ["lines", "taxes", *(["payments"] if with_payments else [])]
    return Invoice.objects.select_related("client").prefetch_related(*related).get(**lookup)


def document_data(
    invoice: Invoice, *, business: BusinessSettings | None = None, today=None
) -> dict[str, Any]:
    """Every value the invoice document shows, as plain data (strings, Decimals, dates).

    Amounts are the stored figures; nothing is computed here but their display form.
    """
    business = business or get_business_settings()
    today = today or business_today(business)
    status = derive_status(invoice, today=today)
    discount_label = _("Discount")
    if invoice.discount_kind == "percent":
        discount_label = _("Discount %(rate)s %%") % {"rate": plain_decimal(invoice.discount_value)}
    return {
        **common_data(invoice, business),
        "kind": "invoice",
        "title": (
            _("Invoice %(number)s") % {"number": invoice.number}
            if invoice.number
            else _("Draft invoice")
        ),
        "status": str(status),
        "status_label": str(InvoiceStatus(status).label),
        "due_date": invoice.due_date,
        "notes": invoice.notes,
        "terms": invoice.terms,
        "discount_label": discount_label,
        "amount_paid": invoice.amount_paid,
        "amount_credited": invoice.amount_credited,
        "balance_due": invoice.balance_due,
    }


def credit_note_data(
    note: CreditNote, *, business: BusinessSettings | None = None
) -> dict[str, Any]:
    """Every value the credit note document shows, as ``document_data`` for an invoice: the
    same template, titled CREDIT NOTE, naming the invoice it credits."""
    business = business or get_business_settings()
    invoice = note.invoice
    return {
        **common_data(note, business),
        "kind": "credit_note",
        "title": (
            _("Credit note %(number)s") % {"number": note.number}
            if note.number
            else _("Draft credit note")
        ),
        "status": str(note.status),
        "status_label": str(CreditNoteStatus(note.status).label),
        "notes": note.reason,
        "terms": "",
        "discount_label": _("Discount"),
        "credited_invoice": {"number": invoice.number, "issue_date": invoice.issue_date},
    }


def load_credit_note(**lookup) -> CreditNote:
    """The credit note with everything its document shows. Raises CreditNote.DoesNotExist."""
    return (
        CreditNote.objects.select_related("client", "invoice")
        .prefetch_related("lines", "taxes")
        .get(**lookup)
    )


def common_data(document: Any, business: BusinessSettings) -> dict[str, Any]:
    """What an invoice, a credit note and a quote show alike: the parties, the lines, the
    figures and every tax with its label, rate, registration number, base and amount."""
    client = document.client
    currency = document.currency
    # Invoice and credit note taxes alike: label, rate, number, base, amount.
    taxes: list[Any] = list(document.taxes.all())
    lines = [
        {
            "description": line.description,
            "quantity": format_number(line.quantity),
            "unit": line.unit,
            "unit_price": format_price(line.unit_price, currency),
            "discount_percent": plain_decimal(line.discount_percent)
            if line.discount_percent
            else "",
            "amount": line.amount,
            "taxes": ", ".join(carried_taxes(line, taxes)) or "—",
        }
        for line in document.lines.all()
    ]
    all_taxes = ", ".join(tax.label for tax in taxes) or "—"
    return {
        "language": translation.get_language(),
        "number": document.number or "",
        "currency": currency,
        "issue_date": document.issue_date,
        "lines": lines,
        "has_line_discounts": any(line["discount_percent"] for line in lines),
        "subtotal": document.subtotal,
        "discount_total": document.discount_total,
        # A column of the taxes each line carries, when not every line carries them all.
        "has_line_taxes": len(taxes) > 0 and any(line["taxes"] != all_taxes for line in lines),
        "taxes": [
            {
                "label": tax.label,
                "rate": plain_decimal(tax.rate),
                "number": tax.number,
                "base": tax.base,
                "amount": tax.amount,
            }
            for tax in taxes
        ],
        "no_tax_reason": no_tax_reason(document, business),
        "total": document.total,
        "in_base": _in_base(document, taxes, business),
        "client": {
            "name": client.name,
            "contact_person": client.contact_person,
            "address": client.address,
            "country": country_name(client.country) if client.country else "",
            "tax_number": client.tax_number,
            "email": client.email,
        },
        "business": {
            "name": business.business_name,
            "slogan": business.slogan,
            "address": business.address,
            "email": business.email,
            "phone": business.phone,
            "website": business.website,
            "registration_number": business.registration_number,
            "logo": business.logo.name if business.logo else "",
            "logo_url": business.logo.url if business.logo else "",
            "footer": business.invoice_footer,
        },
    }


def _in_base(document: Any, taxes: list[Any], business: BusinessSettings) -> dict[str, Any] | None:
    """The rate a foreign document froze and its stored figures in the base currency, where
    the business prints them (SPEC: Currencies and exchange rates); never converted here.
    A quote freezes none: it is not in the books."""
    base = business.default_currency
    if (
        not business.show_base_equivalent
        or document.currency == base
        or getattr(document, "exchange_rate", None) is None
    ):
        return None
    return {
        "currency": base,
        "rate": plain_decimal(document.exchange_rate),
        "rate_date": document.rate_date,
        "rate_source": document.rate_source,
        "subtotal": document.subtotal_in_base,
        "discount_total": document.discount_in_base,
        "taxes": [{"label": tax.label, "amount": tax.amount_in_base} for tax in taxes],
        "total": document.total_in_base,
    }


def tax_summary(invoice: Invoice | CreditNote, business: BusinessSettings | None = None) -> str:
    """The invoice's taxes as the e-mail's {taxes} says them, one per line: label, rate,
    base, amount and registration number; or why there is none."""
    currency = invoice.currency
    lines = [
        _("%(label)s %(rate)s %% on %(base)s: %(amount)s")
        % {
            "label": tax.label,
            "rate": plain_decimal(tax.rate),
            "base": format_money(tax.base, currency),
            "amount": format_money(tax.amount, currency),
        }
        + (
            f" ({_('%(label)s no. %(number)s') % {'label': tax.label, 'number': tax.number}})"
            if tax.number
            else ""
        )
        for tax in invoice.taxes.all()
    ]
    return "\n".join(lines) or no_tax_reason(invoice, business) or ""


def carried_taxes(line: Any, taxes: list[Any]) -> list[str]:
    """The labels of the invoice's ``taxes`` that ``line`` carries, in their order."""
    if not line.taxable:
        return []
    return [tax.label for tax in taxes if line.taxes is None or tax.label in line.taxes]


def _template_source(name: str) -> str:
    # The Django engine's template, which keeps its source (the stubs know only the wrapper).
    return cast(Any, get_template(name)).template.source


def _stylesheet_path() -> str | None:
    return finders.find(STYLESHEET) or (
        staticfiles_storage.path(STYLESHEET) if staticfiles_storage.exists(STYLESHEET) else None
    )


def document_key(data: dict[str, Any]) -> str:
    """SHA-256 of the document's data, its templates and stylesheet, and the renderer."""
    import weasyprint

    digest = hashlib.sha256()
    digest.update(json.dumps(data, sort_keys=True, default=str).encode())
    for name in (DOCUMENT_TEMPLATE, PDF_TEMPLATE):
        digest.update(_template_source(name).encode())
    stylesheet = _stylesheet_path()
    if stylesheet:
        with open(stylesheet, "rb") as file:
            digest.update(file.read())
    digest.update(weasyprint.__version__.encode())
    return digest.hexdigest()


# --- The PDF ------------------------------------------------------------------------------
def _document_fetcher():
    """A WeasyPrint URL fetcher that reads static files and uploads from storage.

    Nothing is fetched over the network: a PDF never waits on, or leaks to, another host.
    """
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    static_prefix = "/" + django_settings.STATIC_URL.lstrip("/")

    origin = urlsplit(PDF_BASE_URL)

    class DocumentFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            parts = urlsplit(url)
            # Only the document's own origin: never file: (WeasyPrint would read the path
            # from the disk itself, whatever host the URL names) nor any other scheme.
            if (parts.scheme, parts.netloc) != (origin.scheme, origin.netloc):
                raise ValueError(f"Only the document's own files are fetched, not {url}")
            path = unquote(parts.path)
            if ".." in path.split("/"):
                raise ValueError(f"Refused: {url}")
            if path.startswith(static_prefix):
                name = path[len(static_prefix) :]
                found = finders.find(name)
                if found:
                    body = open(found, "rb")  # noqa: SIM115 - WeasyPrint closes it
                elif staticfiles_storage.exists(name):
                    body = staticfiles_storage.open(name)
                else:
                    raise FileNotFoundError(url)
            elif path.startswith(UPLOAD_PREFIX):
                body = default_storage.open(path[len(UPLOAD_PREFIX) :])
            else:
                raise ValueError(f"Only static files and uploads are fetched, not {url}")
            content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
            # Answered under the document's origin with the path it asked for: a URL that
            # names no file on this server's disk.
            answered = f"{origin.scheme}://{origin.netloc}{quote(path)}"
            return URLFetcherResponse(answered, body, {"Content-Type": content_type})

    return DocumentFetcher()


def render_invoice_pdf(invoice: Invoice, *, request=None, data: dict | None = None) -> bytes:
    """Render the invoice document to PDF with WeasyPrint. Always renders; see invoice_pdf."""
    return render_document_pdf(data or document_data(invoice), request=request)


def credit_note_pdf(note: CreditNote, *, request=None) -> bytes:
    """The credit note's PDF, from the invoice's template. Not cached: a credit note is
    fetched seldom, and its PDF is archived by SHA-256 when it is sent."""
    return render_document_pdf(credit_note_data(note), request=request)


def credit_note_filename(note: CreditNote) -> str:
    return f"{note.number}.pdf" if note.number else f"draft-credit-note-{note.pk}.pdf"


def render_document_pdf(data: dict[str, Any], *, request=None) -> bytes:
    """A document (invoice or credit note) as PDF with WeasyPrint, from its data."""
    logo = data["business"]["logo"]
    if logo:
        data = {**data, "business": {**data["business"], "logo_url": UPLOAD_PREFIX + quote(logo)}}
    html = render_to_string(PDF_TEMPLATE, {"doc": data}, request=request)
    return html_to_pdf(html)


def html_to_pdf(html: str) -> bytes:
    """A page rendered from our templates as PDF: static files and uploads are read from
    storage, nothing from the network."""
    import weasyprint

    return weasyprint.HTML(
        string=html, base_url=PDF_BASE_URL, url_fetcher=_document_fetcher()
    ).write_pdf()


def invoice_pdf(invoice: Invoice, *, request=None) -> bytes:
    """The invoice's PDF: for an issued invoice from the cache when nothing it shows changed."""
    data = document_data(invoice)
    if invoice.number is None:
        return render_invoice_pdf(invoice, request=request, data=data)
    key = document_key(data)
    cached = RenderedPdf.objects.filter(key=key).values_list("pdf", flat=True).first()
    if cached is not None:
        return bytes(cached)
    pdf = render_invoice_pdf(invoice, request=request, data=data)
    _store(invoice=invoice, key=key, pdf=pdf)
    return pdf


def _store(*, invoice: Invoice, key: str, pdf: bytes) -> None:
    """Keep the newest PDF of each invoice. The cache is only an optimisation: a failure to
    store (another server stored the same key first, a deadlock) still serves the PDF.

    Except a deadlock inside a caller's transaction (an operation that attaches the PDF to
    an e-mail): MariaDB, and Galera's certification, roll back the whole transaction then,
    not just this savepoint, so it is raised for the operation to run again as a whole."""
    try:
        with transaction.atomic():
            RenderedPdf.objects.filter(invoice=invoice).delete()
            RenderedPdf.objects.create(invoice=invoice, key=key, pdf=pdf)
    except IntegrityError:
        pass
    except DatabaseError as exc:
        in_caller_transaction = transaction.get_connection().in_atomic_block
        if isinstance(exc, OperationalError) and is_retryable(exc) and in_caller_transaction:
            raise
        logger.warning("Could not cache the PDF of invoice %s", invoice.pk, exc_info=True)


def forget(*, invoice_id: int) -> None:
    """Drop the invoice's cached PDF (it no longer shows what the invoice is)."""
    RenderedPdf.objects.filter(invoice_id=invoice_id).delete()


def pdf_filename(invoice: Invoice) -> str:
    return f"{invoice.number}.pdf" if invoice.number else f"draft-{invoice.pk}.pdf"
