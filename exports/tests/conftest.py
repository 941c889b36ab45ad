"""The small fixed books of the golden files (exports/tests/golden/BOOKS.md works out every
figure by hand): two taxes, an invoice discount, a credit note, a payment reversed, a USD
payment with a gain, and a cancellation, in the first quarter of 2026."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
import time_machine

from billing import services
from billing.services.credit_notes import (
    CreditLineData,
    create_credit_note,
    issue_credit_note,
)
from settings_app.models import Tax
from settings_app.selectors import get_business_settings
from settings_app.services import create_tax
from tests.factories import store_test_rates

TORONTO = zoneinfo.ZoneInfo("America/Toronto")
START, END = datetime.date(2026, 1, 1), datetime.date(2026, 3, 31)
D = Decimal


def on(day: str):
    """Noon of ``day`` in Toronto: what "today" is for each step."""
    moment = datetime.datetime.fromisoformat(day).replace(hour=12, tzinfo=TORONTO)
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def golden_books(db):
    settings = get_business_settings()
    settings.business_name = "Golden Test Works"
    settings.local_country = "CA"
    settings.default_currency = "CAD"
    settings.time_zone = "America/Toronto"
    settings.tax_local_clients_only = True
    settings.save()
    store_test_rates()  # USD 1.35 since 2000
    gst = create_tax(acting_user=None, label="GST", rate="5", number="812345678 RT0001")
    qst = create_tax(acting_user=None, label="QST", rate="9.975", number="1234567890 TQ0001")
    Tax.objects.filter(pk__in=[gst.pk, qst.pk]).update(in_default_set=True)
    laurier = services.create_client(
        acting_user=None,
        code="LAURIER",
        name="Atelier Laurier inc.",
        email="comptes@laurier.example.com",
        address="12 rue Laurier\nMontréal QC H2T 1A1",
        country="CA",
        tax_number="QC-1234567890",
        uses_default_taxes=False,
        taxes=[gst, qst],
    )
    bravo = services.create_client(
        acting_user=None,
        code="BRAVO",
        name="Bravo Media LLC",
        email="ap@bravo.example.com",
        country="US",
        default_currency="USD",
    )
    home = services.create_client(
        acting_user=None,
        code="HOME",
        name="@Home Renovations",
        email="office@home-reno.example.com",
        country="CA",
        uses_default_taxes=False,
        taxes=[gst],
    )
    design = services.create_service(
        acting_user=None, code="DESIGN", name="Design work", unit="h", unit_price="80.00"
    )
    printing = services.create_service(
        acting_user=None, code="PRINT", name="Printing", unit="pc", unit_price="0.25"
    )

    with on("2026-01-10"):
        first = services.issue_invoice(
            invoice=services.create_draft(
                client=laurier,
                acting_user=None,
                lines=[
                    services.LineData(
                        service=design,
                        description="Design work",
                        quantity=D("10"),
                        unit="h",
                        unit_price=D("80.00"),
                    ),
                    services.LineData(
                        service=printing,
                        description="Printing, 1000 flyers",
                        quantity=D("1000"),
                        unit="pc",
                        unit_price=D("0.25"),
                        discount_percent=D("10"),
                    ),
                ],
                discount_kind="percent",
                discount_value=D("5"),
            ),
            acting_user=None,
            issue_date=datetime.date(2026, 1, 10),
        )
    with on("2026-01-20"):
        bounced = services.record_payment(
            invoice=first,
            amount=D("500.00"),
            date=datetime.date(2026, 1, 20),
            method="cheque",
            reference="1001",
            acting_user=None,
        )
    with on("2026-01-25"):
        services.reverse_payment(payment=bounced, reason="Cheque bounced", acting_user=None)
    with on("2026-02-01"):
        second = services.issue_invoice(
            invoice=services.create_draft(
                client=bravo,
                acting_user=None,
                lines=[
                    services.LineData(
                        service=design,
                        description="Design work",
                        quantity=D("10"),
                        unit="h",
                        unit_price=D("100.00"),
                    )
                ],
            ),
            acting_user=None,
            issue_date=datetime.date(2026, 2, 1),
        )
    with on("2026-02-05"):
        print_line = first.lines.order_by("position", "pk")[1]
        note = create_credit_note(
            invoice=first,
            acting_user=None,
            kind="lines",
            lines=[CreditLineData(invoice_line=print_line, quantity=D("200"))],
            reason="200 flyers misprinted",
        )
        issue_credit_note(credit_note=note, acting_user=None, issue_date=datetime.date(2026, 2, 5))
    with on("2026-02-10"):
        services.record_payment(
            invoice=first,
            amount=D("1070.42"),
            date=datetime.date(2026, 2, 10),
            method="e_transfer",
            reference="ET-77",
            acting_user=None,
        )
    with on("2026-02-20"):
        services.record_payment(
            invoice=second,
            amount=D("1000.00"),
            date=datetime.date(2026, 2, 20),
            method="bank_transfer",
            reference="WIRE 5531",
            acting_user=None,
            exchange_rate="1.40",
            rate_source="bank statement",
        )
    with on("2026-03-02"):
        third = services.issue_invoice(
            invoice=services.create_draft(
                client=home,
                acting_user=None,
                lines=[
                    services.LineData(
                        service=design,
                        description="+ rush fee",
                        quantity=D("3"),
                        unit="h",
                        unit_price=D("100.00"),
                    )
                ],
            ),
            acting_user=None,
            issue_date=datetime.date(2026, 3, 2),
        )
    with on("2026-03-09"):
        services.cancel_invoice(invoice=third, acting_user=None, reason="Sent to the wrong client")
    return {"start": START, "end": END}
