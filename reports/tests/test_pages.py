"""The report pages: linked from the navigation, figures on the page, CSV that parses back to
the same figures, the statement as PDF, bad filters named, bounded queries (credit notes
included)."""

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Client, CreditKind, PaymentMethod
from billing.services import (
    cancel_invoice,
    create_credit_note,
    issue_credit_note,
    post_manual_credit,
)
from ledger.selectors import stored_balance
from reports import selectors
from settings_app.selectors import business_today
from tests.factories import ClientFactory, issued, line, pay
from tests.pdf import pdf_text

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = datetime.date(2026, 6, 15)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(
        datetime.datetime(2026, 6, 15, 16, 0, tzinfo=datetime.UTC), tick=False
    ):
        yield


@pytest.fixture
def office(client, bookkeeper):
    client.force_login(bookkeeper)
    return client


@pytest.fixture
def history(business):
    """Two clients: one with an invoice 45 days late and a partly paid one, one paid up with
    credit left."""
    oak = ClientFactory(code="OAK", name="Oak Ridge", email="ap@oak.example.com")
    elm = ClientFactory(code="ELM", name="Elm Street")
    late = issued(
        client=oak,
        lines=[line("10", "100.00")],
        issue_date=datetime.date(2026, 4, 1),
        due_date=datetime.date(2026, 5, 1),
    )  # 1,130.00
    partly = issued(
        client=oak,
        lines=[line("1", "500.00")],
        issue_date=datetime.date(2026, 6, 1),
        due_date=datetime.date(2026, 7, 1),
    )  # 565.00
    pay(partly, "65.00", when=datetime.date(2026, 6, 5))
    paid = issued(
        client=elm,
        lines=[line("2", "50.00")],
        issue_date=datetime.date(2026, 5, 10),
        due_date=datetime.date(2026, 6, 9),
    )  # 113.00
    pay(paid, "150.00", when=datetime.date(2026, 5, 20))  # 37.00 credit
    return {"oak": oak, "elm": elm, "late": late, "partly": partly, "paid": paid}


def read_csv(response) -> list[dict]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_reports_are_linked_from_the_navigation(office):
    page = office.get("/").content.decode()
    assert 'href="/reports/"' in page
    index = office.get("/reports/").content.decode()
    for name in ("outstanding", "revenue", "tax", "statement"):
        assert f'href="/reports/{name}/"' in index


def test_outstanding_shows_the_aging_buckets(office, history):
    page = office.get("/reports/outstanding/").content.decode()

    assert "as of Jun 15, 2026" in page
    assert "1,130.00 CAD" in page and "500.00 CAD" in page
    assert "1,630.00 CAD" in page  # the total
    assert "ELM" not in page.split('id="aging"')[1]  # paid up: not outstanding


def test_outstanding_csv_parses_back_to_the_reports_figures(office, history):
    rows = read_csv(office.get("/reports/outstanding/?format=csv"))

    assert [row["client"] for row in rows] == ["OAK"]
    [oak] = rows
    assert D(oak["current"]) == D("500.00")
    assert D(oak["days_31_60"]) == D("1130.00")
    assert D(oak["total"]) == D("1630.00") and oak["invoices"] == "2"
    assert D(oak["ledger_balance"]) == D("-1630.00")
    report = selectors.aging(TODAY)
    assert D(oak["total"]) == report.totals["CAD"]["total"]


def test_outstanding_as_of_an_earlier_date(office, history):
    rows = read_csv(office.get("/reports/outstanding/?as_of=2026-05-31&format=csv"))

    # Before the partly paid invoice; the paid one was paid on 2026-05-20.
    assert [(row["client"], D(row["total"]), D(row["days_1_30"])) for row in rows] == [
        ("OAK", D("1130.00"), D("1130.00"))
    ]


def test_revenue_page_has_the_chart_and_the_figures(office, history):
    page = office.get("/reports/revenue/?start=2026-04-01&end=2026-06-30").content.decode()

    assert "<svg" in page and 'class="report-chart"' in page
    assert "Invoiced" in page and "Collected" in page
    assert "1,808.00 CAD" in page  # invoiced April to June: 1,130 + 565 + 113
    assert 'class="table table-sm bg-body top-clients"' in page and "Oak Ridge" in page
    assert "<script" not in page.split('class="report-chart"')[1].split("</svg>")[0]


def test_revenue_csv_parses_back_to_the_figures(office, history):
    rows = read_csv(office.get("/reports/revenue/?start=2026-04-01&end=2026-06-30&format=csv"))

    by_month = {row["period_start"]: row for row in rows}
    assert D(by_month["2026-04-01"]["invoiced"]) == D("1130.00")
    assert D(by_month["2026-05-01"]["invoiced"]) == D("113.00")
    assert D(by_month["2026-05-01"]["collected"]) == D("150.00")
    assert D(by_month["2026-05-01"]["outstanding_at_end"]) == D("1130.00")
    assert D(by_month["2026-06-01"]["collected"]) == D("65.00")
    assert D(by_month["2026-06-01"]["outstanding_at_end"]) == D("1630.00")
    assert D(by_month["2026-06-01"]["tax"]) == D("65.00")


def test_tax_csv_gives_the_figure_to_file(office, history):
    rows = read_csv(office.get("/reports/tax/?start=2026-01-01&end=2026-06-30&format=csv"))

    assert [
        (r["period_start"], r["tax"], D(r["tax_charged"]), D(r["taxable_base"])) for r in rows
    ] == [("2026-04-01", "HST", D("208.00"), D("1600.00"))]


def test_the_statement_page_csv_and_pdf_agree_with_the_ledger(office, history):
    query = "/reports/statement/?client=OAK&start=2026-05-01&end=2026-06-15"

    page = office.get(query).content.decode()
    assert "Statement" in page and "Oak Ridge" in page
    assert "-1,130.00 CAD" in page  # opening balance on 2026-05-01
    assert "-1,630.00 CAD" in page  # closing balance

    rows = read_csv(office.get(query + "&format=csv"))
    assert rows[0]["entry"] == "opening_balance" and D(rows[0]["balance"]) == D("-1130.00")
    closing = next(row for row in rows if row["entry"] == "closing_balance")
    oak = history["oak"]
    assert (
        D(closing["balance"])
        == selectors.ledger_balances(TODAY, [(oak.pk, "CAD")])[(oak.pk, "CAD")]
    )
    assert [row["invoice"] for row in rows if row["entry"] == "open_invoice"] == [
        history["late"].number,
        history["partly"].number,
    ]

    response = office.get(query + "&format=pdf")
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Opening balance" in text and "Closing balance" in text and "Oak Ridge" in text
    assert "-1,630.00 CAD" in text
    assert history["late"].number in text and "45" in text  # days past due


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("/reports/outstanding/?as_of=2026-02-30", "As of: enter a valid date"),
        ("/reports/outstanding/?as_of=1066-10-14", "As of: enter a date between"),
        ("/reports/revenue/?start=2026-06-01&end=2026-01-01", "To: must be on or after From"),
        ("/reports/revenue/?start=2000-01-01&end=2026-01-01&period=month", "By: at most 60"),
        ("/reports/revenue/?period=week", "By: select a valid choice"),
        ("/reports/tax/?start=yesterday", "From: enter a valid date"),
        ("/reports/statement/?client=NOBODY", "Client: there is no client with the code"),
        ("/reports/statement/?client=", "Client code: this field is required"),
    ],
)
def test_a_bad_filter_is_named_on_the_page_and_in_a_download(office, history, url, words):
    page = office.get(url)
    assert page.status_code == 200
    assert words in page.content.decode()

    download = office.get(url + "&format=csv")
    assert download.status_code == 400
    assert words in download.content.decode()


def test_a_viewer_may_read_the_reports(client, viewer, history):
    client.force_login(viewer)
    assert client.get("/reports/outstanding/").status_code == 200
    assert client.get("/reports/statement/?client=OAK&format=pdf").status_code == 200


def test_the_reports_need_a_login(client, history):
    response = client.get("/reports/revenue/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def _queries(office, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = office.get(url)
    assert response.status_code == 200
    return len(queries)


def test_each_report_runs_in_a_bounded_number_of_queries(office, history):
    """The counts do not grow with the data: more clients, invoices, payments, credit notes
    and cancellations cost no more queries, nor do more periods in the revenue report."""
    urls = [
        "/reports/outstanding/",
        "/reports/revenue/?start=2026-01-01&end=2026-06-30",
        "/reports/revenue/?start=2024-01-01&end=2026-06-30",
        "/reports/tax/",
        "/reports/statement/?client=OAK&start=2026-01-01",
        "/reports/statement/?client=OAK&start=2026-01-01&format=csv",
    ]
    # A credit note from the start: the statement reads the taxes of each kind of document
    # it shows (one query each), which it reads as soon as there is one.
    note = create_credit_note(
        invoice=history["late"], acting_user=None, kind=CreditKind.AMOUNT, amount="1.00"
    )
    issue_credit_note(credit_note=note, acting_user=None, issue_date=datetime.date(2026, 4, 2))
    before = {url: _queries(office, url) for url in urls}
    for n in range(6):
        extra = ClientFactory(code=f"X{n}")
        for due in (datetime.date(2026, 1, 10), datetime.date(2026, 6, 30)):
            invoice = issued(client=extra, issue_date=datetime.date(2026, 1, 1), due_date=due)
            pay(invoice, "10.00", when=datetime.date(2026, 2, 1))
        post_manual_credit(client=extra, amount=D("5.00"), memo="Goodwill", acting_user=None)
        mistake = issued(client=extra, issue_date=datetime.date(2026, 1, 5))
        cancel_invoice(invoice=mistake, acting_user=None, reason="Mistake")
        invoice = issued(client=history["oak"], issue_date=datetime.date(2026, 3, 1))
        pay(invoice, "1.00", when=datetime.date(2026, 3, 2), method=PaymentMethod.CASH)
        note = create_credit_note(
            invoice=invoice, acting_user=None, kind=CreditKind.AMOUNT, amount="2.00"
        )
        issue_credit_note(credit_note=note, acting_user=None, issue_date=datetime.date(2026, 4, 1))
    after = {url: _queries(office, url) for url in urls}

    assert after == before
    assert before["/reports/outstanding/"] <= 11
    # Invoiced (with the credit notes and the cancellations: one UNION ALL), collected,
    # open at month ends (2) and on a day not a month end (1), top clients and services
    # (2 each), the receivables at the end (1), besides the session, user, second factor,
    # time zone and settings.
    six_months = before["/reports/revenue/?start=2026-01-01&end=2026-06-30"]
    assert six_months == before["/reports/revenue/?start=2024-01-01&end=2026-06-30"]
    assert six_months <= 16, before


def test_the_reports_work_on_the_demo_data(office):
    call_command("seed_demo", stdout=io.StringIO())
    for url in ("/reports/outstanding/", "/reports/revenue/", "/reports/tax/"):
        assert office.get(url).status_code == 200
    code = Client.objects.order_by("code").values_list("code", flat=True).first()
    statement = office.get(f"/reports/statement/?client={code}&start=2020-01-01&format=pdf")
    assert statement.status_code == 200 and statement.content.startswith(b"%PDF")
    # Every client's statement closes on its ledger balance.
    for client in Client.objects.all():
        rows = read_csv(
            office.get(f"/reports/statement/?client={client.code}&start=2020-01-01&format=csv")
        )
        closing = next(row for row in rows if row["entry"] == "closing_balance")
        assert D(closing["balance"]) == stored_balance(client)
    assert re.search(r"\d", office.get("/reports/outstanding/").content.decode())
    # Issue 18's "done when": the demo bills in USD and EUR, and revenue has one CAD total.
    today = business_today()
    start = (today - datetime.timedelta(days=200)).replace(day=1)
    revenue = office.get(f"/reports/revenue/?start={start}&end={today}&format=csv")
    rows = read_csv(revenue)
    assert {row["currency"] for row in rows} >= {"CAD", "USD", "EUR"}
    assert {row["base_currency"] for row in rows} == {"CAD"}
    assert "All currencies in CAD" in office.get("/reports/revenue/").content.decode()


def test_text_a_spreadsheet_would_run_as_a_formula_is_kept_as_text(office, history):
    history["oak"].name = '=HYPERLINK("https://evil.example","Click")'
    history["oak"].save()

    [oak] = read_csv(office.get("/reports/outstanding/?format=csv"))

    assert oak["name"] == "'" + history["oak"].name
    assert D(oak["ledger_balance"]) == D("-1630.00")  # a negative amount stays a number


def test_outstanding_shows_a_page_of_clients_with_the_totals_of_all(office, history, monkeypatch):
    monkeypatch.setattr("reports.views.OUTSTANDING_PAGE_SIZE", 1)
    for code in ("AAA", "ZZZ"):
        issued(client=ClientFactory(code=code), issue_date=datetime.date(2026, 6, 1))

    first = office.get("/reports/outstanding/").content.decode()
    last = office.get("/reports/outstanding/?page=3").content.decode()

    assert "AAA" in first and "OAK" not in first.split('id="aging"')[1].split("<tfoot>")[0]
    assert "ZZZ" in last and "Page 3 of 3" in last
    assert "1,856.00 CAD" in first and "1,856.00 CAD" in last  # 1,630 + 2 × 113, on each page
