"""Documents in a foreign currency (SPEC: Currencies and exchange rates): the rate frozen at
issue (the newest stored on or before the issue date, or one typed in), base figures worked
out by hand, issuing refused without a rate, credit notes at their invoice's rate netting to
zero, the base currency fixed once figures exist, the document, check_rates, the migration."""

import datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from billing import services
from billing.models import CreditKind, Invoice, InvoiceNumberCounter, InvoiceStatus, Payment
from billing.money import (
    CURRENCIES,
    MINOR_UNIT_DECIMALS,
    TaxFigures,
    figures_of,
    round_money,
    to_base,
)
from billing.pdf import invoice_pdf
from billing.services import COUNTER_NAME
from ledger.models import LedgerEntry
from otb.operations import InvalidInput
from rates.models import ExchangeRate
from settings_app.selectors import get_business_settings
from settings_app.services import update_business_settings
from tests.factories import RATES_SINCE, ClientFactory, draft, issued, line
from tests.pdf import pdf_text

D = Decimal
MARCH_4 = datetime.date(2026, 3, 4)


def rate(currency, day, value, source="ECB"):
    return ExchangeRate.objects.create(
        base_currency="CAD", currency=currency, date=day, rate=D(value), source=source
    )


@pytest.fixture
def usd(business):
    """A local client billed in USD: HST 13 % applies."""
    return ClientFactory(code="YANKEE", default_currency="USD")


def counter():
    return InvoiceNumberCounter.objects.get(name=COUNTER_NAME).last_number


def test_issuing_freezes_the_newest_rate_on_or_before_the_issue_date(usd):
    rate("USD", datetime.date(2026, 3, 2), "1.40")
    rate("USD", datetime.date(2026, 3, 5), "1.42")
    invoice = issued(client=usd, lines=[line("3", "33.33")], issue_date=MARCH_4)
    # 99.99 USD, HST 12.9987 -> 13.00, total 112.99. At 1.40 CAD: subtotal 139.986 ->
    # 139.99, HST 18.20, total 139.99 + 18.20 = 158.19.
    assert (invoice.exchange_rate, invoice.rate_date, invoice.rate_source) == (
        D("1.40"),
        datetime.date(2026, 3, 2),
        "ECB",
    )
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        D("99.99"),
        D("13.00"),
        D("112.99"),
    )
    invoice.refresh_from_db()
    assert (
        invoice.subtotal_in_base,
        invoice.discount_in_base,
        invoice.tax_in_base,
        invoice.total_in_base,
    ) == (D("139.99"), D("0.00"), D("18.20"), D("158.19"))
    assert [t.amount_in_base for t in invoice.taxes.all()] == [D("18.20")]
    # A later rate changes nothing: it was frozen.
    ExchangeRate.objects.filter(currency="USD").update(rate=D("2"))
    invoice.refresh_from_db()
    assert invoice.total_in_base == D("158.19")


def test_a_rate_typed_in_is_frozen_with_its_date_and_source(usd):
    invoice = draft(
        client=usd, lines=[line("1", "1000.00")], discount_kind="percent", discount_value="10"
    )
    invoice = services.issue_invoice(
        invoice=invoice,
        acting_user=None,
        issue_date=MARCH_4,
        exchange_rate="1.3812345678",
        rate_source="Desjardins wire",
    )
    invoice.refresh_from_db()
    # 1,000.00 less 100.00; HST on 900.00 = 117.00. × 1.3812345678: 1,381.2345678 ->
    # 1,381.23; 138.12345678 -> 138.12; 161.60444... -> 161.60; total 1,381.23 − 138.12
    # + 161.60 = 1,404.71 (each figure rounded once, then added: SPEC).
    assert (invoice.exchange_rate, invoice.rate_date, invoice.rate_source) == (
        D("1.3812345678"),
        MARCH_4,
        "Desjardins wire",
    )
    assert (
        invoice.subtotal_in_base,
        invoice.discount_in_base,
        invoice.tax_in_base,
        invoice.total_in_base,
    ) == (D("1381.23"), D("138.12"), D("161.60"), D("1404.71"))


def test_a_yen_invoice_has_base_figures_in_cents(business):
    client = ClientFactory(default_currency="JPY")
    invoice = issued(client=client, lines=[line("1", "12345")], issue_date=MARCH_4)
    invoice.refresh_from_db()
    # ¥12,345, HST 1,604.85 -> ¥1,605, total ¥13,950. At 0.009: 111.105 -> 111.11,
    # 14.445 -> 14.45, total 125.56.
    assert (invoice.tax_total, invoice.total) == (D("1605.00"), D("13950.00"))
    assert (invoice.subtotal_in_base, invoice.tax_in_base, invoice.total_in_base) == (
        D("111.11"),
        D("14.45"),
        D("125.56"),
    )


def test_an_invoice_in_the_base_currency_has_the_rate_1(business):
    invoice = issued(lines=[line("1", "100.00")], issue_date=MARCH_4)
    invoice.refresh_from_db()
    assert (invoice.exchange_rate, invoice.rate_date, invoice.rate_source) == (1, MARCH_4, "")
    assert (invoice.total_in_base, invoice.tax_in_base) == (D("113.00"), D("13.00"))


def test_issuing_without_a_rate_is_refused_saying_where_to_enter_one(usd):
    ExchangeRate.objects.filter(currency="USD").delete()
    rate("USD", datetime.date(2026, 3, 5), "1.42")  # after the issue date: not in force
    invoice = draft(client=usd)
    before = counter()
    with pytest.raises(InvalidInput) as refusal:
        services.issue_invoice(invoice=invoice, acting_user=None, issue_date=MARCH_4)
    assert refusal.value.field == "exchange_rate"
    assert "no rate of USD in CAD on or before" in refusal.value.message
    assert "Exchange rates page" in refusal.value.message
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number, invoice.exchange_rate) == ("draft", None, None)
    assert counter() == before
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    "typed, problem",
    [
        ("abc", "not a number"),
        ("0", "more than 0"),
        ("-1.2", "more than 0"),
        ("1.12345678901", "10 decimal places"),
        ("1e3", "not a number"),
        ("99999999999", "at most"),
    ],
)
def test_a_bad_rate_typed_in_is_refused_naming_the_field(usd, typed, problem):
    invoice = draft(client=usd)
    before = counter()
    with pytest.raises(InvalidInput) as refusal:
        services.issue_invoice(invoice=invoice, acting_user=None, exchange_rate=typed)
    assert refusal.value.field == "exchange_rate"
    assert refusal.value.message.startswith("Exchange rate:"), refusal.value.message
    assert problem in refusal.value.message, refusal.value.message
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.DRAFT and counter() == before


def test_a_change_after_issue_keeps_the_frozen_rate(usd):
    invoice = issued(client=usd, lines=[line("1", "100.00")], issue_date=MARCH_4)
    rate("USD", MARCH_4, "2.00")
    services.update_invoice(invoice=invoice, acting_user=None, lines=[line("2", "100.00")])
    invoice.refresh_from_db()
    # 200.00 + HST 26.00 at the frozen 1.35: 270.00 + 35.10 = 305.10.
    assert invoice.exchange_rate == D("1.35")
    assert (invoice.subtotal_in_base, invoice.tax_in_base, invoice.total_in_base) == (
        D("270.00"),
        D("35.10"),
        D("305.10"),
    )
    assert [t.amount_in_base for t in invoice.taxes.all()] == [D("35.10")]


def test_an_invoice_credited_in_parts_nets_to_zero_in_the_base_currency(business):
    """1.00 USD at 1.35 is 1.35 CAD. Credits of 0.33 are 0.4455 -> 0.45 each; the last,
    0.34, would be 0.459 -> 0.46 and credit 1.36: it takes what remains, 0.45."""
    client = ClientFactory(default_currency="USD", tax_exempt=True)
    invoice = issued(client=client, lines=[line("1", "1.00")], issue_date=MARCH_4)
    notes = []
    for kind, amount in (
        (CreditKind.AMOUNT, "0.33"),
        (CreditKind.AMOUNT, "0.33"),
        (CreditKind.FULL, None),
    ):
        note = services.create_credit_note(
            invoice=invoice, acting_user=None, kind=kind, amount=amount
        )
        notes.append(services.issue_credit_note(credit_note=note, acting_user=None))
    for note in notes:
        note.refresh_from_db()
        assert (note.exchange_rate, note.rate_date) == (D("1.35"), RATES_SINCE)
    assert [n.total_in_base for n in notes] == [D("0.45"), D("0.45"), D("0.45")]
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.CREDITED
    assert sum(n.total_in_base for n in notes) == invoice.total_in_base == D("1.35")


def test_a_credit_note_uses_its_invoices_rate_not_todays(usd):
    invoice = issued(client=usd, lines=[line("1", "100.00")], issue_date=MARCH_4)
    rate("USD", MARCH_4 + datetime.timedelta(days=1), "2.00")
    note = services.create_credit_note(
        invoice=invoice, acting_user=None, kind=CreditKind.AMOUNT, amount="56.50"
    )
    note = services.issue_credit_note(credit_note=note, acting_user=None)
    note.refresh_from_db()
    # Half: 50.00 + HST 6.50 at 1.35 = 67.50 + 8.78 (8.775) = 76.28.
    assert note.exchange_rate == D("1.35")
    assert (note.subtotal_in_base, note.tax_in_base, note.total_in_base) == (
        D("67.50"),
        D("8.78"),
        D("76.28"),
    )


def test_the_base_currency_cannot_change_once_a_document_is_issued(business):
    update_business_settings(acting_user=None, default_currency="EUR")
    update_business_settings(acting_user=None, default_currency="CAD")
    issued(lines=[line()])
    with pytest.raises(InvalidInput) as refusal:
        update_business_settings(acting_user=None, default_currency="EUR")
    assert refusal.value.field == "default_currency"
    assert "cannot change" in refusal.value.message
    assert get_business_settings().default_currency == "CAD"
    # Other settings still change.
    update_business_settings(acting_user=None, default_currency="CAD", slogan="Still here")
    assert get_business_settings().slogan == "Still here"


def test_the_document_shows_the_base_equivalent_where_the_business_wants_it(usd):
    invoice = issued(client=usd, lines=[line("3", "33.33")], issue_date=MARCH_4)
    text = pdf_text(invoice_pdf(Invoice.objects.get(pk=invoice.pk)))
    assert "EQUIVALENT IN CAD" in text  # a label: in capitals, as the others
    assert "1 USD = 1.35 CAD" in text
    # 99.99 × 1.35 = 134.9865 -> 134.99; HST 13.00 -> 17.55; total 152.54.
    for figure in ("134.99 CAD", "17.55 CAD", "152.54 CAD"):
        assert figure in text, figure
    update_business_settings(acting_user=None, show_base_equivalent=False)
    text = pdf_text(invoice_pdf(Invoice.objects.get(pk=invoice.pk)))
    assert "EQUIVALENT IN CAD" not in text and "152.54 CAD" not in text
    assert "112.99 USD" in text


def test_the_issue_page_takes_a_typed_rate_and_shows_a_refusal_on_its_field(
    client, bookkeeper, usd
):
    client.force_login(bookkeeper)
    invoice = draft(client=usd)
    url = reverse("invoices:issue", args=[invoice.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="exchange_rate"' in page.content.decode()
    refused = client.post(url, {"issue_date": "2026-03-04", "exchange_rate": "1,38"})
    assert refused.status_code == 200
    assert "Exchange rate:" in refused.content.decode()
    invoice.refresh_from_db()
    assert invoice.is_draft
    done = client.post(url, {"issue_date": "2026-03-04", "exchange_rate": "1.38"})
    assert done.status_code == 302
    invoice.refresh_from_db()
    assert (invoice.exchange_rate, invoice.rate_source) == (D("1.38"), "typed in")
    # A draft in the base currency is issued without the rate's fields.
    local = draft(client=ClientFactory())
    assert (
        'name="exchange_rate"'
        not in client.get(f"/invoices/drafts/{local.pk}/issue/").content.decode()
    )


def test_check_rates_lists_documents_without_a_rate_and_fills_them(usd):
    invoice = issued(client=usd, lines=[line("1", "100.00")], issue_date=MARCH_4)
    note = services.create_credit_note(invoice=invoice, acting_user=None, kind=CreditKind.FULL)
    note = services.issue_credit_note(credit_note=note, acting_user=None)
    # As the migration leaves a foreign document issued before rates were kept:
    empty = dict.fromkeys(
        [
            "exchange_rate",
            "rate_date",
            "subtotal_in_base",
            "discount_in_base",
            "tax_in_base",
            "total_in_base",
        ]
    )
    Invoice.objects.filter(pk=invoice.pk).update(**empty)
    type(note).objects.filter(pk=note.pk).update(**empty)
    ExchangeRate.objects.filter(currency="USD").delete()

    def run(*args):
        from io import StringIO

        out = StringIO()
        call_command("check_rates", *args, stdout=out)
        return out.getvalue()

    listed = run()
    assert f"{invoice.number} (USD, 2026-03-04): no rate" in listed
    assert f"{note.number} (USD," in listed
    assert "2 document(s) without an exchange rate" in listed
    assert "2 document(s)" in run("--fill")  # no rate stored yet: nothing to fill with
    rate("USD", datetime.date(2026, 3, 3), "1.40")
    filled = run("--fill")
    assert f"{invoice.number} (USD, 2026-03-04): rate 1.4" in filled
    invoice.refresh_from_db()
    note.refresh_from_db()
    # 100.00 + 13.00 at 1.40: 140.00 + 18.20.
    assert (invoice.total_in_base, note.total_in_base) == (D("158.20"), D("158.20"))
    assert "Every issued document has an exchange rate." in run()


# --- The rule itself, over many figures (no database) --------------------------------------

CODES = sorted(CURRENCIES)


@st.composite
def document_figures(draw):
    currency = draw(st.sampled_from(["JPY", "USD", "EUR", *CODES]))
    places = MINOR_UNIT_DECIMALS.get(currency, 2)
    amount = st.integers(0, 10**11).map(lambda n: D(n).scaleb(-places).quantize(D("0.01")))
    subtotal = draw(amount)
    discount = draw(amount.filter(lambda d: d <= subtotal))
    taxes = [
        TaxFigures(label=f"T{i}", rate=D(5), base=subtotal, amount=draw(amount))
        for i in range(draw(st.integers(0, 3)))
    ]
    return figures_of(subtotal=subtotal, discount_total=discount, taxes=taxes)


@settings(max_examples=300)
@given(
    figures=document_figures(),
    rate=st.decimals(min_value=D("0.0000000001"), max_value=D("99999"), places=10),
    base=st.sampled_from(["CAD", "JPY", "EUR", "KRW"]),
)
def test_base_figures_are_each_figure_converted_once_and_always_add_up(figures, rate, base):
    in_base = to_base(figures, rate=rate, base_currency=base)
    step = D(1).scaleb(-MINOR_UNIT_DECIMALS.get(base, 2))
    converted = [figures.subtotal, figures.discount_total, *(t.amount for t in figures.taxes)]
    stored = [in_base.subtotal, in_base.discount_total, *in_base.taxes]
    for figure, base_figure in zip(converted, stored, strict=True):
        with localcontext() as exact:
            exact.prec = 60
            assert base_figure == (figure * rate).quantize(step, ROUND_HALF_UP)
        assert base_figure == round_money(figure * rate, base)
        assert base_figure % step == 0
    assert in_base.total == in_base.subtotal - in_base.discount_total + sum(in_base.taxes, D(0))


# --- The migration ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_base_currency_documents_the_rate_1_and_leaves_foreign_ones(
    migration_rows,
):
    from billing.tests.test_credit_note_migration import OldBooks, leaf, migrate

    try:
        # Back to billing 0015 and ledger 0005: what depends on their later migrations
        # (quotes, document links, the outbox's quote messages) is unapplied with them.
        before = [
            ("billing", "0015_credit_notes_and_refunds"),
            ("ledger", "0005_credit_notes_and_refunds"),
        ]
        apps = migrate(before)
        OldBooks(apps).write()
        apps = migrate(leaf())
        Invoice = apps.get_model("billing", "Invoice")
        for invoice in Invoice.objects.all():
            if invoice.status == "draft":
                assert invoice.exchange_rate is None, invoice.pk
            elif invoice.currency == "CAD":
                assert (invoice.exchange_rate, invoice.rate_date) == (1, invoice.issue_date)
                assert (
                    invoice.subtotal_in_base,
                    invoice.discount_in_base,
                    invoice.tax_in_base,
                    invoice.total_in_base,
                ) == (invoice.subtotal, invoice.discount_total, invoice.tax_total, invoice.total)
                taxes = apps.get_model("billing", "InvoiceTax").objects.filter(invoice=invoice)
                assert [t.amount_in_base for t in taxes] == [t.amount for t in taxes]
            else:
                # Left for check_rates: no rate was stored before the migration ran.
                assert (invoice.exchange_rate, invoice.total_in_base) == (None, None)
        currencies = set(Invoice.objects.exclude(status="draft").values_list("currency", flat=True))
        assert currencies == {"CAD", "USD"}
        # Payments take their invoice's currency (on account, their client's); those in the
        # base currency that counted get the rate 1 and settle what they applied.
        Payment = apps.get_model("billing", "Payment")
        rows = {
            (p.client.code, p.amount, p.status): p for p in Payment.objects.select_related("client")
        }
        overpaid = rows[("ACME", D("150.00"), "confirmed")]
        assert (overpaid.currency, overpaid.exchange_rate, overpaid.amount_in_base) == (
            "CAD",
            1,
            D("150.00"),
        )
        assert (overpaid.settled_in_base, overpaid.exchange_difference) == (D("113.00"), 0)
        pending = rows[("ACME", D("20.00"), "pending")]
        assert (pending.exchange_rate, pending.settled_in_base) == (None, None)
        bounced = rows[("ACME", D("113.00"), "reversed")]
        assert (bounced.amount_in_base, bounced.settled_in_base) == (D("113.00"), None)
        on_account = rows[("GLOBEX", D("25.00"), "confirmed")]
        assert (on_account.currency, on_account.exchange_rate) == ("USD", None)
    finally:
        migrate(leaf())


def test_check_rates_fills_a_payment_and_values_it_by_the_one_money_path(usd):
    invoice = issued(client=usd, lines=[line("1", "100.00")], issue_date=MARCH_4)
    payment = services.record_payment(
        invoice=invoice, amount="113.00", date=MARCH_4, method="cash", acting_user=None
    )
    Payment.objects.filter(pk=payment.pk).update(
        exchange_rate=None,
        rate_date=None,
        amount_in_base=None,
        settled_in_base=None,
        exchange_difference=None,
    )
    out = StringIO()
    call_command("check_rates", stdout=out)
    assert f"{payment} (USD, 2026-03-04): no rate" in out.getvalue()
    rate("USD", MARCH_4, "1.40")
    call_command("check_rates", "--fill", stdout=StringIO())
    payment.refresh_from_db()
    # 113.00 at 1.40 = 158.20 received for 113.00 × 1.35 = 152.55 owed: 5.65 gained.
    assert (payment.amount_in_base, payment.settled_in_base, payment.exchange_difference) == (
        D("158.20"),
        D("152.55"),
        D("5.65"),
    )
