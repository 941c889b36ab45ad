"""Test data. Clients and services are plain rows; invoices and payments are made through
the operations, as the app makes them."""

import datetime
from decimal import Decimal

import factory

from billing import services
from billing.models import Client, PaymentMethod, Service
from settings_app.selectors import business_today


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    code = factory.Sequence(lambda n: f"C{n:04d}")
    name = factory.Sequence(lambda n: f"Client {n}")
    email = factory.LazyAttribute(lambda o: f"{o.code.lower()}@example.com")
    country = "CA"
    default_currency = "CAD"


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    code = factory.Sequence(lambda n: f"S{n:04d}")
    name = factory.Sequence(lambda n: f"Service {n}")
    unit = "h"
    unit_price = Decimal("85.0000")
    taxable = True


def line(quantity="1", unit_price="100.00", **kwargs) -> services.LineData:
    return services.LineData(
        description=kwargs.pop("description", "Work"),
        quantity=Decimal(quantity),
        unit_price=Decimal(unit_price),
        **kwargs,
    )


def draft(client=None, lines=None, user=None, **kwargs):
    return services.create_draft(
        client=client or ClientFactory(),
        lines=lines if lines is not None else [line()],
        acting_user=user,
        **kwargs,
    )


def issued(client=None, lines=None, user=None, issue_date=None, due_date=None, **kwargs):
    invoice = draft(client=client, lines=lines, user=user, **kwargs)
    return services.issue_invoice(
        invoice=invoice, acting_user=user, issue_date=issue_date, due_date=due_date
    )


def pay(
    invoice, amount, *, user=None, confirmed=True, method=PaymentMethod.BANK_TRANSFER, when=None
):
    return services.record_payment(
        invoice=invoice,
        amount=Decimal(amount),
        date=when or business_today(),
        method=method,
        acting_user=user,
        confirmed=confirmed,
    )


GST_NO, QST_NO = "812345678 RT0001", "1234567890 TQ0001"


def quebec_client(code="LAURIER"):
    """A Quebec client with its own set, GST 5 % and QST 9.975 % (taxes made if need be)."""
    from settings_app.models import Tax
    from settings_app.services import create_tax

    def tax(label, rate, number):
        existing = Tax.objects.filter(label=label).first()
        return existing or create_tax(
            acting_user=None, label=label, rate=rate, number=number, in_default_set=False
        )

    return services.create_client(
        acting_user=None,
        code=code,
        name="Atelier Laurier inc.",
        email="comptes@laurier.example.com",
        country="CA",
        uses_default_taxes=False,
        taxes=[tax("GST", "5", GST_NO), tax("QST", "9.975", QST_NO)],
    )


# The rates the ``business`` fixture stores for a CAD base, dated long before any test's
# documents: round numbers, so a test's base figures are easy to work out by hand.
TEST_RATES = {"USD": Decimal("1.35"), "EUR": Decimal("1.5"), "JPY": Decimal("0.009")}
RATES_SINCE = datetime.date(2000, 1, 1)


def store_test_rates(base_currency="CAD"):
    """A rate of every other currency the product offers in ``base_currency`` (1.25 where
    TEST_RATES names none), as typed-in rates stored since RATES_SINCE."""
    from otb.currencies import CURRENCIES
    from rates.models import ExchangeRate

    ExchangeRate.objects.bulk_create(
        ExchangeRate(
            base_currency=base_currency,
            currency=code,
            date=RATES_SINCE,
            rate=TEST_RATES.get(code, Decimal("1.25")),
            source="tests",
        )
        for code in CURRENCIES
        if code != base_currency
    )
