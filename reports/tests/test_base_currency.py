"""The reports in the base currency (SPEC: Currencies and exchange rates): invoices in CAD,
USD and JPY at known frozen rates, payments at rates of their own, a credit note and a
reversal; the rates change after issue, and every figure in CAD is the sum of the stored base
figures worked out by hand here, never a conversion at a later rate. The exchange gains and
losses report, the dashboard's base totals and the statement per currency, on the same
books."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.test import TestCase

from billing import services
from billing.models import CreditKind, Invoice, InvoiceTax, PaymentMethod
from billing.selectors import dashboard_figures
from outbox.models import Message
from rates.services import record_rate
from reports import selectors
from tests.api import token_client
from tests.factories import ClientFactory, line
from tests.pdf import pdf_text
from tests.test_one_style import ISO_DATE, STORED_PRECISION, UNGROUPED, read

pytestmark = pytest.mark.django_db

D = Decimal
MARCH, APRIL = datetime.date(2026, 3, 1), datetime.date(2026, 4, 1)
MARCH_END, TODAY = datetime.date(2026, 3, 31), datetime.date(2026, 4, 30)


@pytest.fixture(autouse=True)
def clock():
    # Noon in Toronto, the business's time zone, on 30 April 2026.
    with time_machine.travel(
        datetime.datetime(2026, 4, 30, 16, 0, tzinfo=datetime.UTC), tick=False
    ):
        yield


@pytest.fixture
def office(client, bookkeeper):
    client.force_login(bookkeeper)
    return client


def day(month, number):
    return datetime.date(2026, month, number)


def issue(client, amount, *, on, currency=None, rate=None, due=None, quantity="1"):
    invoice = services.create_draft(
        client=client,
        lines=[line(quantity, amount)],
        acting_user=None,
        **({"currency": currency} if currency else {}),
    )
    return services.issue_invoice(
        invoice=invoice, acting_user=None, issue_date=on, due_date=due, exchange_rate=rate
    )


def receive(invoice, amount, *, on, rate=None):
    return services.record_payment(
        invoice=invoice,
        amount=D(amount),
        date=on,
        method=PaymentMethod.BANK_TRANSFER,
        acting_user=None,
        exchange_rate=rate,
    )


@pytest.fixture
def books(business):
    """MAPLE (CAD, HST 13 %) billed in CAD and in USD; SAKURA (JPY) and YANKEE (USD), both
    tax-exempt. The business fixture's stored rates: USD 1.35, JPY 0.009.

    - A: MAPLE, 1,000.00 + 130.00 HST = 1,130.00 CAD (2 March); 130.00 paid 10 March,
      200.00 on 15 April: 800.00 open.
    - B: MAPLE in USD, 100.00 + 13.00 HST = 113.00 USD at a typed 1.30 (3 March): base
      130.00 + 16.90 = 146.90. 50.00 USD paid at 1.40 (70.00 received, 65.00 settled:
      +5.00); 10.00 USD at 1.10 on 28 March, reversed today; a credit note of 11.30 USD
      (10.00 + 1.30 HST) on 2 April at B's rate: 13.00 + 1.69 = 14.69 CAD. Open: 51.70 USD.
    - C: SAKURA, 123,457 JPY at the stored 0.009 (4 March): 1,111.113 -> 1,111.11 CAD, due
      31 May. 23,457 JPY paid at 0.0095 (222.8415 -> 222.84 received; 211.113 -> 211.11
      settled: +11.73). Open: 100,000 JPY.
    - D: YANKEE, 200.00 USD at the stored 1.35 (5 March): 270.00 CAD; paid in full at 1.20 on
      25 March: 240.00 received, it clears D so settles all 270.00: −30.00.

    Then, from 1 April, USD is 1.50 and JPY 0.010: converting again would change everything.
    """
    maple = ClientFactory(code="MAPLE", name="Maple Leaf Ltd.")
    sakura = ClientFactory(
        code="SAKURA", name="Sakura KK", country="JP", default_currency="JPY", tax_exempt=True
    )
    yankee = ClientFactory(
        code="YANKEE", name="Yankee Inc.", country="US", default_currency="USD", tax_exempt=True
    )
    a = issue(maple, "1000.00", on=day(3, 2))
    b = issue(maple, "100.00", on=day(3, 3), currency="USD", rate="1.30")
    c = issue(sakura, "123457", on=day(3, 4), due=day(5, 31))
    d = issue(yankee, "200.00", on=day(3, 5))
    receive(a, "130.00", on=day(3, 10))
    gain = receive(b, "50.00", on=day(3, 20), rate="1.40")
    loss = receive(d, "200.00", on=day(3, 25), rate="1.20")
    jpy_gain = receive(c, "23457", on=day(3, 26), rate="0.0095")
    bounced = receive(b, "10.00", on=day(3, 28), rate="1.10")
    services.reverse_payment(payment=bounced, reason="Bounced", acting_user=None)
    receive(a, "200.00", on=day(4, 15))
    note = services.create_credit_note(
        invoice=b, acting_user=None, kind=CreditKind.AMOUNT, amount="11.30"
    )
    note = services.issue_credit_note(credit_note=note, acting_user=None, issue_date=day(4, 2))
    record_rate(acting_user=None, currency="USD", date=APRIL, rate="1.50")
    record_rate(acting_user=None, currency="JPY", date=APRIL, rate="0.010")
    for invoice in (a, b, c, d):
        invoice.refresh_from_db()
    return {
        "maple": maple,
        "sakura": sakura,
        "a": a,
        "b": b,
        "c": c,
        "d": d,
        "note": note,
        "gain": gain,
        "loss": loss,
        "jpy_gain": jpy_gain,
    }


def test_the_books_hold_the_base_figures_worked_out_by_hand(books):
    b, c, d, note = books["b"], books["c"], books["d"], books["note"]
    assert (b.exchange_rate, b.total, b.total_in_base, b.tax_in_base) == (
        D("1.30"),
        D("113.00"),
        D("146.90"),
        D("16.90"),
    )
    assert (c.total, c.total_in_base) == (D("123457.00"), D("1111.11"))
    assert (d.exchange_rate, d.total_in_base) == (D("1.35"), D("270.00"))
    assert (note.total, note.total_in_base, note.tax_in_base) == (
        D("11.30"),
        D("14.69"),
        D("1.69"),
    )
    for payment, figures in (
        ("gain", (D("70.00"), D("65.00"), D("5.00"))),
        ("loss", (D("240.00"), D("270.00"), D("-30.00"))),
        ("jpy_gain", (D("222.84"), D("211.11"), D("11.73"))),
    ):
        found = books[payment]
        found.refresh_from_db()
        assert (found.amount_in_base, found.settled_in_base, found.exchange_difference) == figures


def test_revenue_adds_the_stored_base_figures_into_one_total(books):
    periods = selectors.revenue(MARCH, TODAY, period="month", today=TODAY, base_currency="CAD")
    march, april = selectors.revenue_in_base(periods, base_currency="CAD")

    # Invoiced: 1,130.00 + 146.90 + 270.00 + 1,111.11; tax: 130.00 + 16.90.
    assert (march.invoiced, march.tax, march.credited) == (D("2658.01"), D("146.90"), 0)
    # Collected: 130.00 CAD; 70.00 + 240.00 + 11.00 (the payment reversed only in April)
    # received for USD; 222.84 for JPY.
    assert march.collected == D("673.84")
    # Open at the end of March: A 1,000.00; B 53.00 USD × 146.90 / 113.00 = 68.90 (the
    # reversal is not recorded yet); C 100,000 JPY × 1,111.11 / 123,457 = 900.0008 -> 900.00.
    assert march.outstanding == D("1968.90")
    # April: the credit note at B's rate; 200.00 CAD received, the 11.00 given back.
    assert (april.invoiced, april.credited, april.tax) == (D("-14.69"), D("-14.69"), D("-1.69"))
    assert april.collected == D("189.00")
    # A 800.00; B 51.70 USD × 146.90 / 113.00 = 67.21; C 900.00.
    assert april.outstanding == D("1767.21")
    assert (march.without_rate, april.without_rate) == (0, 0)

    invoiced = march.invoiced + april.invoiced
    assert invoiced == D("2643.32")
    # Converting the currencies' own totals again at today's rates would not give it.
    usd = sum((p.invoiced for p in periods if p.currency == "USD"), D(0))
    jpy = sum((p.invoiced for p in periods if p.currency == "JPY"), D(0))
    assert (usd, jpy) == (D("301.70"), D("123457.00"))
    assert D("1130.00") + usd * D("1.50") + jpy * D("0.010") != invoiced
    # The per-currency detail is still there, as it was.
    usd_march = next(p for p in periods if (p.currency, p.start) == ("USD", MARCH))
    assert (usd_march.invoiced, usd_march.invoiced_in_base) == (D("313.00"), D("416.90"))
    assert (usd_march.collected, usd_march.collected_in_base) == (D("260.00"), D("321.00"))


def test_the_revenue_page_and_csv_show_one_total_in_cad(office, books):
    url = "/reports/revenue/?start=2026-03-01&end=2026-04-30"
    page = office.get(url).content.decode()
    in_base = page.split('class="mb-4 revenue-in-base"')[1].split("</section>")[0]
    assert "All currencies in CAD" in in_base
    total = in_base.split('class="fw-semibold revenue-in-base-total"')[1]
    assert "2,643.32 CAD" in total and "862.84 CAD" in total and "145.21 CAD" in total
    assert 'data-currency="USD"' in page and 'data-currency="JPY"' in page  # the detail

    rows = list(
        csv.DictReader(io.StringIO(office.get(url + "&format=csv").content.decode("utf-8-sig")))
    )
    header = list(rows[0])
    assert header[:10] == [
        "period_start",
        "period_end",
        "currency",
        "invoiced",
        "tax",
        "invoices",
        "collected",
        "outstanding_at_end",
        "credited",
        "credit_notes",
    ]
    assert header[10:18] == [
        "base_currency",
        "invoiced_in_base",
        "tax_in_base",
        "collected_in_base",
        "outstanding_at_end_in_base",
        "credited_in_base",
        "without_rate",
        "refunds_without_base",
    ]
    # Added after those, so they keep their places.
    assert header[18:] == [
        "cancelled",
        "cancellations",
        "cancelled_in_base",
        "income",
        "income_in_base",
    ]
    assert sum(D(row["invoiced_in_base"]) for row in rows) == D("2643.32")
    april = [row for row in rows if row["period_start"] == "2026-04-01"]
    assert sum(D(row["outstanding_at_end_in_base"]) for row in april) == D("1767.21")
    jpy_march = next(r for r in rows if (r["currency"], r["period_start"]) == ("JPY", "2026-03-01"))
    assert (jpy_march["invoiced"], jpy_march["invoiced_in_base"]) == ("123457.00", "1111.11")
    assert jpy_march["outstanding_at_end_in_base"] == "900.00"


def test_the_tax_report_adds_each_taxs_stored_base_amount(office, books):
    rows = selectors.tax_report(MARCH, TODAY, period="month")
    in_base = selectors.tax_in_base(rows, base_currency="CAD")
    assert [
        (r["start"], r["label"], r["charged"], r["credited"], r["amount"]) for r in in_base
    ] == [
        (MARCH, "HST", D("146.90"), D("0.00"), D("146.90")),  # 130.00 + 16.90
        (APRIL, "HST", D("0.00"), D("-1.69"), D("-1.69")),
    ]
    usd = next(r for r in rows if (r["currency"], r["start"]) == ("USD", MARCH))
    assert (usd["amount"], usd["amount_in_base"]) == (D("13.00"), D("16.90"))
    untaxed = selectors.tax_in_base(
        selectors.untaxed_sales(MARCH, TODAY, period="month"), base_currency="CAD"
    )
    # SAKURA 1,111.11 and YANKEE 270.00, both tax-exempt.
    assert [(r["amount"], r["currencies"]) for r in untaxed] == [(D("1381.11"), ["JPY", "USD"])]

    page = office.get("/reports/tax/?start=2026-03-01&end=2026-04-30&period=month")
    table = page.content.decode().split('id="tax-in-base"')[1].split("</table>")[0]
    assert "146.90 CAD" in table and "-1.69 CAD" in table and "1,381.11 CAD" in table
    download = office.get("/reports/tax/?start=2026-03-01&end=2026-04-30&period=month&format=csv")
    csv_rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert list(csv_rows[0])[-11:-5] == [
        "base_currency",
        "taxable_base_in_base",
        "tax_charged_in_base",
        "credited_base_in_base",
        "credited_tax_in_base",
        "without_rate",
    ]
    # Added after those, so they keep their places.
    assert list(csv_rows[0])[-5:] == [
        "cancelled_base",
        "cancelled_tax",
        "cancellations",
        "cancelled_base_in_base",
        "cancelled_tax_in_base",
    ]
    hst_march = [r for r in csv_rows if r["tax"] == "HST" and r["period_start"] == "2026-03-01"]
    assert sum(D(r["tax_charged_in_base"]) for r in hst_march) == D("146.90")
    # A tax's base in the base currency is not kept: never converted, left empty.
    assert {r["taxable_base_in_base"] for r in hst_march} == {""}


def test_outstanding_gives_the_open_balances_at_their_issue_rates(office, books):
    report = selectors.aging(TODAY, base_currency="CAD")

    assert {(r.code, r.currency): (r.total, r.total_in_base) for r in report.rows} == {
        ("MAPLE", "CAD"): (D("800.00"), D("800.00")),
        ("MAPLE", "USD"): (D("51.70"), D("67.21")),
        ("SAKURA", "JPY"): (D("100000.00"), D("900.00")),
    }
    assert report.in_base["total"] == D("1767.21")
    assert (report.in_base["current"], report.in_base["days_1_30"]) == (D("900.00"), D("867.21"))
    assert report.without_rate == 0
    # What the dashboard says is open today, in CAD: the same.
    assert dashboard_figures(today=TODAY, default_currency="CAD").in_base.outstanding == D(
        "1767.21"
    )

    page = office.get("/reports/outstanding/").content.decode()
    assert "All currencies in CAD" in page and "1,767.21 CAD" in page
    rows = list(
        csv.DictReader(
            io.StringIO(office.get("/reports/outstanding/?format=csv").content.decode("utf-8-sig"))
        )
    )
    assert list(rows[0])[-4:] == [
        "ledger_balance",
        "base_currency",
        "total_in_base",
        "without_rate",
    ]
    maple_usd = next(r for r in rows if (r["client"], r["currency"]) == ("MAPLE", "USD"))
    # Its ledger balance is the USD account's, not the sum of its CAD and USD accounts.
    assert (maple_usd["total_in_base"], maple_usd["ledger_balance"]) == ("67.21", "-51.70")


def test_the_gains_report_lists_confirmed_payments_with_a_difference(office, books):
    report = selectors.exchange_gains(MARCH, TODAY, base_currency="CAD")

    # The bounced payment (10.00 at 1.10, −2.00) was reversed: it no longer counts.
    assert [p.pk for p in report.payments] == [
        books["gain"].pk,
        books["loss"].pk,
        books["jpy_gain"].pk,
    ]
    assert (report.gains, report.losses, report.net, report.count) == (
        D("16.73"),
        D("-30.00"),
        D("-13.27"),
        3,
    )
    assert report.by_currency["USD"] == {
        "count": 2,
        "amount": D("250.00"),
        "gains": D("5.00"),
        "losses": D("-30.00"),
        "net": D("-25.00"),
    }

    page = office.get("/reports/exchange-gains/?start=2026-03-01&end=2026-04-30").content.decode()
    assert "16.73 CAD" in page and "-30.00 CAD" in page and "-13.27 CAD" in page
    assert books["b"].number in page and "1.4" in page and "1.3" in page
    download = office.get("/reports/exchange-gains/?start=2026-03-01&end=2026-04-30&format=csv")
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert [
        (
            r["date"],
            r["client"],
            r["currency"],
            r["amount"],
            r["payment_rate"],
            r["invoice_rate"],
            r["amount_in_base"],
            r["settled_in_base"],
            r["exchange_difference"],
        )
        for r in rows
    ] == [
        ("2026-03-20", "MAPLE", "USD", "50.00", "1.4", "1.3", "70.00", "65.00", "5.00"),
        ("2026-03-25", "YANKEE", "USD", "200.00", "1.2", "1.35", "240.00", "270.00", "-30.00"),
        ("2026-03-26", "SAKURA", "JPY", "23457.00", "0.0095", "0.009", "222.84", "211.11", "11.73"),
    ]
    # April alone: nothing gained or lost.
    assert selectors.exchange_gains(APRIL, TODAY, base_currency="CAD").count == 0


def test_the_dashboard_gives_totals_in_cad_beside_each_currency(office, books):
    figures = dashboard_figures(today=TODAY, default_currency="CAD")
    total = figures.in_base
    assert total.currency == "CAD"
    # Open: A 800.00 + B 67.21 + C 900.00; overdue: A and B (C is due 31 May).
    assert (total.outstanding, total.overdue, total.overdue_count) == (
        D("1767.21"),
        D("867.21"),
        2,
    )
    # April: the credit note (−14.69); 200.00 CAD received, 11.00 given back.
    assert (total.invoiced_this_month, total.credited_this_month) == (D("-14.69"), D("-14.69"))
    assert total.collected_this_month == D("189.00")
    usd = next(row for row in figures.per_currency if row.currency == "USD")
    assert (usd.outstanding, usd.outstanding_in_base) == (D("51.70"), D("67.21"))
    assert (usd.collected_this_month, usd.collected_in_base) == (D("-10.00"), D("-11.00"))

    html = office.get("/").content.decode()
    in_base = html.split('data-base-currency="CAD"')[1].split('data-currency="CAD"')[0]
    assert "1,767.21 CAD" in in_base and "867.21 CAD" in in_base and "189.00 CAD" in in_base


def test_the_dashboard_api_gives_the_base_totals(books, bookkeeper):
    data = token_client(bookkeeper).get("/api/v1/dashboard/").json()
    assert data["in_base"]["currency"] == "CAD"
    assert D(data["in_base"]["outstanding"]) == D("1767.21")
    usd = next(row for row in data["per_currency"] if row["currency"] == "USD")
    assert D(usd["outstanding_in_base"]) == D("67.21")


def test_the_statement_is_per_currency(office, books, smtp):
    usd = selectors.statement(books["maple"], MARCH, TODAY, currency="USD")
    assert usd.currency == "USD"
    # B −113.00, +50.00, +10.00, −10.00 (reversed), credit note +11.30.
    assert [entry.amount for entry in usd.entries] == [
        D("-113.00"),
        D("50.00"),
        D("10.00"),
        D("11.30"),
        D("-10.00"),
    ]
    assert usd.closing == D("-51.70")
    assert [invoice.number for invoice in usd.open_invoices] == [books["b"].number]
    cad = selectors.statement(books["maple"], MARCH, TODAY)
    assert (cad.currency, cad.closing) == ("CAD", D("-800.00"))
    assert [invoice.number for invoice in cad.open_invoices] == [books["a"].number]

    query = "/reports/statement/?client=MAPLE&start=2026-03-01&end=2026-04-30"
    page = office.get(query).content.decode()
    assert "-800.00 CAD" in page and "51.70 USD" not in page
    assert "currency=USD" in page.split('class="small d-print-none statement-currencies"')[1]
    page = office.get(query + "&currency=USD").content.decode()
    assert "-51.70 USD" in page and 'name="currency" value="USD"' in page
    response = office.get(query + "&currency=USD&format=pdf")
    assert response["Content-Disposition"].endswith('statement-MAPLE-2026-04-30-USD.pdf"')
    assert "-51.70 USD" in pdf_text(response.content)
    rows = list(
        csv.DictReader(
            io.StringIO(office.get(query + "&currency=USD&format=csv").content.decode("utf-8-sig"))
        )
    )
    assert next(r for r in rows if r["entry"] == "closing_balance")["balance"] == "-51.70"
    assert office.get(query + "&currency=XXX").status_code == 200  # named on the page

    data = {
        "client": "MAPLE",
        "start": "2026-03-01",
        "end": "2026-04-30",
        "currency": "USD",
        "to": "ap@maple.example.com",
    }
    with TestCase.captureOnCommitCallbacks(execute=True):
        office.post("/reports/statement/send/", data)
    assert Message.objects.count() == 1
    mail = smtp.received[0]
    assert "Balance owed on Apr 30, 2026: 51.70 USD." in mail.text()
    [(name, _pdf)] = mail.attachments()
    assert name == "statement-MAPLE-2026-04-30-USD.pdf"


def test_documents_without_a_rate_are_counted_never_converted(office, books):
    """A JPY invoice from before rates were kept (its base figures emptied, as the
    migration left such documents): left out of every base figure and named."""
    legacy = issue(books["sakura"], "5000", on=day(4, 10))
    Invoice.objects.filter(pk=legacy.pk).update(
        exchange_rate=None,
        rate_date=None,
        subtotal_in_base=None,
        discount_in_base=None,
        tax_in_base=None,
        total_in_base=None,
    )
    InvoiceTax.objects.filter(invoice=legacy).update(amount_in_base=None)

    report = selectors.aging(TODAY, base_currency="CAD")
    assert (report.in_base["total"], report.without_rate) == (D("1767.21"), 1)
    sakura = next(row for row in report.rows if row.code == "SAKURA")
    assert (sakura.total, sakura.total_in_base, sakura.without_rate) == (
        D("105000.00"),
        D("900.00"),
        1,
    )
    page = office.get("/reports/outstanding/").content.decode()
    assert "1 document without an exchange rate" in page and "check_rates --fill" in page

    periods = selectors.revenue(APRIL, TODAY, period="month", today=TODAY, base_currency="CAD")
    (april,) = selectors.revenue_in_base(periods, base_currency="CAD")
    # Invoiced in April, and open at its end: counted twice, a figure each.
    assert (april.invoiced, april.without_rate) == (D("-14.69"), 2)
    page = office.get("/reports/revenue/?start=2026-04-01&end=2026-04-30").content.decode()
    assert "check_rates --fill" in page and "Without a rate" in page
    figures = dashboard_figures(today=TODAY, default_currency="CAD")
    assert (figures.in_base.outstanding, figures.in_base.without_rate) == (D("1767.21"), 2)


def test_the_pages_in_several_currencies_write_dates_and_numbers_one_way(office, books):
    pages = [
        "/",
        "/reports/outstanding/",
        "/reports/revenue/?start=2026-03-01&end=2026-04-30",
        "/reports/tax/?start=2026-03-01&end=2026-04-30&period=month",
        "/reports/exchange-gains/?start=2026-03-01&end=2026-04-30",
        "/reports/statement/?client=MAPLE&start=2026-03-01&currency=USD",
    ]
    found = {}
    for url in pages:
        text = " ".join(read(office.get(url).content.decode()).text)
        problems = [
            *ISO_DATE.findall(text),
            *STORED_PRECISION.findall(text),
            *UNGROUPED.findall(text),
        ]
        if problems:
            found[url] = problems
    assert found == {}


def test_the_api_emails_the_statement_of_a_currency(books, bookkeeper, smtp):
    api = token_client(bookkeeper)
    url = "/api/v1/clients/MAPLE/statement/send/"
    body = {"start": "2026-03-01", "end": "2026-04-30", "currency": "USD"}
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api.post(url, body, format="json")
    assert response.status_code == 202, response.json()
    assert "Balance owed on Apr 30, 2026: 51.70 USD." in smtp.received[0].text()
    response = api.post(url, {**body, "currency": "XYZ"}, format="json")
    assert response.status_code == 400 and "currency" in response.json()["errors"]
    assert Message.objects.count() == 1
