"""Duplicate an invoice (issue 16, item 22): a new draft with the same client, lines and
discounts."""

from decimal import Decimal

import pytest
from django.urls import reverse

from billing import services
from billing.models import Invoice
from tests.api import token_client
from tests.factories import ClientFactory, issued, line

pytestmark = pytest.mark.django_db
D = Decimal


def shape(invoice):
    return [
        (x.description, x.quantity, x.unit_price, x.discount_percent, x.taxable)
        for x in invoice.lines.all()
    ]


def test_a_duplicate_is_a_draft_with_the_same_client_lines_and_discounts(business):
    source = issued(
        client=ClientFactory(code="ACME"),
        lines=[
            line(description="Painting", quantity="7.5", discount_percent=D("10")),
            line(description="Materials", unit_price="42.1250", taxable=False),
        ],
        discount_kind="percent",
        discount_value=D("5"),
        notes="Phase 1",
    )
    copy = services.duplicate_invoice(invoice=source, acting_user=None)
    assert copy.is_draft and copy.number is None and copy.pk != source.pk
    assert copy.client == source.client
    assert shape(copy) == shape(source)
    assert (copy.discount_kind, copy.discount_value, copy.notes) == (
        "percent",
        D("5.000"),
        "Phase 1",
    )
    assert copy.total == source.total
    source.refresh_from_db()
    assert source.number == "INV-0001"  # the original is untouched


def test_the_page_and_the_api_duplicate(client, bookkeeper, business):
    source = issued(client=ClientFactory(code="ACME"))
    client.force_login(bookkeeper)
    assert (
        reverse("invoices:duplicate", args=[source.pk])
        in client.get(source.get_absolute_url()).content.decode()
    )
    response = client.post(reverse("invoices:duplicate", args=[source.pk]))
    copy = Invoice.objects.exclude(pk=source.pk).get()
    assert response["Location"] == reverse("invoices:edit", args=[copy.pk])
    response = token_client(bookkeeper).post(
        f"/api/v1/invoices/{source.number}/duplicate/", {}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "draft"
    assert Invoice.objects.count() == 3


def test_a_viewer_cannot_duplicate(client, viewer, business):
    source = issued(client=ClientFactory(code="ACME"))
    client.force_login(viewer)
    assert client.post(reverse("invoices:duplicate", args=[source.pk])).status_code == 403
    assert Invoice.objects.count() == 1
