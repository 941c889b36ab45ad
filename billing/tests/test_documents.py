"""The invoice document: its page, its PDF and the cache of rendered PDFs."""

import datetime
import io
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from billing import pdf, services
from billing.models import RenderedPdf
from settings_app.selectors import business_today
from tests.factories import ClientFactory, draft, issued, line, pay
from tests.pdf import pdf_pages, pdf_text

pytestmark = pytest.mark.django_db

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext, pdfinfo) not installed"
)


def png_logo() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 40), "#1d4e89").save(buffer, "PNG")
    return SimpleUploadedFile("northwind.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture
def business(business):
    business.business_name = "Northwind Contracting Ltd."
    business.slogan = "Renovation and repair, done right"
    business.email = "office@northwind.example.com"
    business.phone = "+1 416 555 0142"
    business.website = "https://northwind.example.com"
    business.address = "120 Front Street East\nToronto ON"
    business.registration_number = "ON-2754391"
    business.invoice_footer = "Thank you for your business."
    business.payment_terms_text = "Payment due within 30 days by e-transfer."
    business.save()
    return business


@pytest.fixture
def office(client, viewer, business):
    client.force_login(viewer)
    return client


@pytest.fixture
def acme(db):
    return ClientFactory(
        name="Acme Renovations Inc.",
        contact_person="Sandra Okafor",
        address="480 Industrial Parkway\nAurora ON",
        email="accounts@acme.example.com",
    )


def three_lines():
    return [
        line("2", "150.00", description="Kitchen design consultation", unit="h"),
        line("1.5", "85.0000", description="Site visit and measurements", unit="h"),
        line("3", "12.50", description="Material samples", discount_percent=Decimal("10")),
    ]


def invoice_in_status(status, acme):
    today = business_today()
    if status == "draft":
        return draft(client=acme, lines=three_lines())
    if status == "overdue":
        return issued(
            client=acme,
            lines=three_lines(),
            issue_date=today - datetime.timedelta(days=60),
            due_date=today - datetime.timedelta(days=30),
        )
    invoice = issued(client=acme, lines=three_lines())
    if status == "partial":
        pay(invoice, "100.00")
    elif status == "paid":
        pay(invoice, str(invoice.total))
    elif status == "cancelled":
        services.cancel_invoice(invoice=invoice, acting_user=None, reason="Entered twice")
    invoice.refresh_from_db()
    return invoice


# --- The page -----------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["draft", "pending", "partial", "paid", "overdue", "cancelled"])
def test_invoice_page_shows_the_whole_invoice_in_every_status(office, acme, status):
    invoice = invoice_in_status(status, acme)
    response = office.get(invoice.get_absolute_url())
    assert response.status_code == 200
    page = response.content.decode()
    for text in (
        "Northwind Contracting Ltd.",
        "Renovation and repair, done right",
        "office@northwind.example.com",
        "ON-2754391",
        "812345678 RT0001",
        "Acme Renovations Inc.",
        "Sandra Okafor",
        "accounts@acme.example.com",
        "Kitchen design consultation",
        "Site visit and measurements",
        "Material samples",
        "HST 13 %",
        f"{invoice.total:,.2f} CAD",
        f"{invoice.amount_paid:,.2f} CAD",
        f"{invoice.balance_due:,.2f} CAD",
        "Payment due within 30 days by e-transfer.",
        "Thank you for your business.",
        f"doc-status-{status}",
    ):
        assert text in page, text
    assert (invoice.number or "Draft") in page


def test_invoice_page_shows_the_stored_figures(office, acme):
    invoice = issued(client=acme, lines=three_lines(), discount_kind="percent", discount_value=5)
    pay(invoice, "100.00")
    page = office.get(invoice.get_absolute_url()).content.decode()
    # 300.00 + 127.50 + 33.75 = 461.25; 5 % off = 23.06; HST 13 % of 438.19 = 56.96.
    assert "461.25 CAD" in page
    assert "Discount 5 %" in page
    assert "−23.06 CAD" in page
    assert "56.96 CAD" in page
    assert "495.15 CAD" in page  # total
    assert "395.15 CAD" in page  # balance due
    assert invoice.total == Decimal("495.15")


def test_invoice_page_lists_the_payments(office, acme):
    invoice = issued(client=acme, lines=three_lines())
    pay(invoice, "100.00")
    pay(invoice, "25.00", confirmed=False)
    page = office.get(invoice.get_absolute_url()).content.decode()
    assert "Bank transfer" in page
    assert "status-confirmed" in page
    assert "status-pending" in page
    assert reverse("invoices:pdf", args=[invoice.number]) in page


def test_draft_is_shown_by_id(office, acme):
    invoice = draft(client=acme, lines=three_lines())
    response = office.get(reverse("invoices:draft_detail", args=[invoice.pk]))
    assert response.status_code == 200
    assert reverse("invoices:draft_pdf", args=[invoice.pk]) in response.content.decode()


def test_issued_invoice_asked_for_by_id_redirects_to_its_number(office, acme):
    invoice = issued(client=acme)
    response = office.get(reverse("invoices:draft_detail", args=[invoice.pk]))
    assert response.status_code == 302
    assert response.url == reverse("invoices:detail", args=[invoice.number])
    response = office.get(reverse("invoices:draft_pdf", args=[invoice.pk]))
    assert response.url == reverse("invoices:pdf", args=[invoice.number])


@pytest.mark.parametrize(
    "url",
    [
        "/invoices/INV-9999/",
        "/invoices/INV-9999/pdf/",
        "/invoices/draft/999999/",
        "/invoices/draft/999999/pdf/",
        "/invoices/draft/99999999999999999999999999/",
        "/invoices/draft/99999999999999999999999999/pdf/",
        "/invoices/" + "X" * 300 + "/",
    ],
)
def test_unknown_invoice_is_not_found(office, url):
    assert office.get(url).status_code == 404


def test_anonymous_user_is_sent_to_login(client, business, acme):
    invoice = issued(client=acme)
    for url in (invoice.get_absolute_url(), reverse("invoices:pdf", args=[invoice.number])):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_user_without_view_permission_is_refused(client, django_user_model, business, acme):
    invoice = issued(client=acme)
    client.force_login(django_user_model.objects.create_user("nobody", password="pw-1-for-tests"))
    assert client.get(invoice.get_absolute_url()).status_code == 403
    assert client.get(reverse("invoices:pdf", args=[invoice.number])).status_code == 403


@pytest.mark.parametrize("line_count", [1, 50])
def test_invoice_page_queries_do_not_grow_with_lines(
    office, acme, line_count, django_assert_max_num_queries
):
    invoice = issued(client=acme, lines=[line(description=f"Item {n}") for n in range(line_count)])
    pay(invoice, "10.00")
    # The settings are read once, and whether a payment locks the invoice comes from the
    # payments the page loads anyway.
    # 1: the business's time zone; 1: its credit notes; 1: the quote it was made from;
    # 1: the recurring schedule that made it; 2: its links (the panel) and when one was
    # last opened ("Viewed").
    with django_assert_max_num_queries(17):
        assert office.get(invoice.get_absolute_url()).status_code == 200


def test_invoice_page_shows_the_logo(office, acme, business, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    business.logo = png_logo()
    business.save()
    page = office.get(issued(client=acme).get_absolute_url()).content.decode()
    assert 'class="doc-logo" src="/media/logo/northwind' in page


# --- The PDF ------------------------------------------------------------------------------
@needs_poppler
def test_pdf_holds_the_invoice(office, acme):
    invoice = issued(client=acme, lines=three_lines())
    response = office.get(reverse("invoices:pdf", args=[invoice.number]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    for expected in (
        invoice.number,
        "Acme Renovations Inc.",
        "Kitchen design consultation",
        "Site visit and measurements",
        "Material samples",
        "HST 13 %",
        f"{invoice.total:,.2f} CAD",
    ):
        assert expected in text, expected


@needs_poppler
def test_pdf_metadata_names_the_invoice_and_the_business(acme, business):
    invoice = issued(client=acme)
    info = subprocess.run(
        ["pdfinfo", "-"], input=pdf.invoice_pdf(invoice), capture_output=True, check=True
    ).stdout.decode()
    assert f"Invoice {invoice.number}" in info
    assert "Northwind Contracting Ltd." in info


@needs_poppler
def test_draft_pdf_is_named_for_its_id(office, acme):
    invoice = draft(client=acme, lines=three_lines())
    response = office.get(reverse("invoices:draft_pdf", args=[invoice.pk]))
    assert response["Content-Disposition"] == f'attachment; filename="draft-{invoice.pk}.pdf"'
    assert "Draft" in pdf_text(response.content)
    assert not RenderedPdf.objects.exists()


@needs_poppler
def test_long_invoice_repeats_the_table_header_on_every_page(acme):
    invoice = issued(
        client=acme, lines=[line(description=f"Line item number {n}") for n in range(50)]
    )
    data = pdf.invoice_pdf(invoice)
    assert pdf_pages(data) > 1
    page_two = pdf_text(data, 2)
    assert "UNIT PRICE" in page_two
    assert "DESCRIPTION" in page_two
    text = pdf_text(data)
    assert all(re.search(rf"Line item number {n}\b", text) for n in range(50))


@needs_poppler
def test_pdf_embeds_the_logo_without_the_network(acme, business, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    business.logo = png_logo()
    business.save()
    data = pdf.invoice_pdf(issued(client=acme))
    with open(tmp_path / "invoice.pdf", "wb") as file:
        file.write(data)
    images = subprocess.run(
        ["pdfimages", "-list", str(tmp_path / "invoice.pdf")], capture_output=True, check=True
    )
    assert len(images.stdout.decode().splitlines()) == 3  # two header rows, one image


@needs_poppler
def test_changed_settings_change_the_next_pdf(office, acme, business):
    invoice = issued(client=acme)
    url = reverse("invoices:pdf", args=[invoice.number])
    assert "Northwind Contracting Ltd." in pdf_text(office.get(url).content)
    business.business_name = "Southwind Renovations"
    business.save()
    text = pdf_text(office.get(url).content)
    assert "Southwind Renovations" in text
    assert "Northwind Contracting Ltd." not in text


@pytest.fixture
def renders(monkeypatch) -> list[int]:
    """One item per PDF WeasyPrint renders."""
    counted: list[int] = []
    html_to_pdf = pdf.html_to_pdf

    def counting(html):
        counted.append(1)
        return html_to_pdf(html)

    monkeypatch.setattr(pdf, "html_to_pdf", counting)
    return counted


def test_unchanged_issued_invoice_is_rendered_once(office, acme, renders):
    invoice = issued(client=acme, lines=three_lines())
    url = reverse("invoices:pdf", args=[invoice.number])
    first = office.get(url).content
    second = office.get(url).content
    assert len(renders) == 1
    assert second == first
    assert RenderedPdf.objects.filter(invoice=invoice).count() == 1


def test_payment_renders_the_pdf_again_and_replaces_the_cached_one(office, acme, renders):
    invoice = issued(client=acme, lines=three_lines())
    url = reverse("invoices:pdf", args=[invoice.number])
    office.get(url)
    old_key = RenderedPdf.objects.get(invoice=invoice).key
    pay(invoice, "50.00")
    office.get(url)
    assert len(renders) == 2
    assert RenderedPdf.objects.get(invoice=invoice).key != old_key


def test_document_key_follows_what_the_document_shows(acme, business):
    invoice = pdf.load_invoice(pk=issued(client=acme).pk)
    key = pdf.document_key(pdf.document_data(invoice))
    assert key == pdf.document_key(pdf.document_data(pdf.load_invoice(pk=invoice.pk)))
    acme.contact_person = "Someone Else"
    acme.save()
    assert key != pdf.document_key(pdf.document_data(pdf.load_invoice(pk=invoice.pk)))
    business.invoice_footer = "New footer"
    business.save()
    changed = pdf.document_data(pdf.load_invoice(pk=invoice.pk), business=business)
    assert pdf.document_key(changed) != key


def test_a_reversed_payment_does_not_lock_the_invoice_page(office, acme):
    from billing import services

    invoice = issued(client=acme)
    payment = pay(invoice, "10.00")
    assert "lock-reason" in office.get(invoice.get_absolute_url()).content.decode()
    services.reverse_payment(payment=payment, reason="Bounced", acting_user=None)
    assert "lock-reason" not in office.get(invoice.get_absolute_url()).content.decode()
