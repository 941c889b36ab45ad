"""The quotes report (/reports/quotes/): the quotes sent per period of their quote date and
currency, what became of them as of today, their value and the share accepted; the same
figures as CSV. Figures worked out by hand below."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from quotes import services
from quotes.models import Answer
from reports import selectors
from tests.factories import ClientFactory, line

pytestmark = pytest.mark.django_db
D = Decimal
URL = "/reports/quotes/"
RANGE = {"start": "2026-04-01", "end": "2026-06-30"}


def noon_in_toronto(day: datetime.date):
    return time_machine.travel(
        datetime.datetime.combine(day, datetime.time(16, 0), datetime.UTC), tick=False
    )


@pytest.fixture(autouse=True)
def clock():
    with noon_in_toronto(datetime.date(2026, 6, 15)):
        yield


@pytest.fixture
def office(client, bookkeeper):
    client.force_login(bookkeeper)
    return client


def quote(client, amount: str, sent_on=None, *, valid_until=None, then=None):
    """A quote of one line of ``amount`` (HST 13 % on top), marked sent on ``sent_on``,
    then accepted, declined or withdrawn."""
    made = services.create_quote(client=client, acting_user=None, lines=[line("1", amount)])
    if sent_on is None:
        return made
    made = services.mark_sent(
        quote=made, acting_user=None, issue_date=sent_on, valid_until=valid_until
    )
    if then in (Answer.ACCEPTED, Answer.DECLINED):
        services.record_answer(
            quote=made, acting_user=None, answer=then, name="Ann", channel="phone"
        )
    elif then == "withdrawn":
        services.withdraw_quote(quote=made, acting_user=None, reason="Postponed")
    return made


@pytest.fixture
def history(business):
    """Today is 15 June 2026. In CAD, April: 1,130.00 accepted, 565.00 declined, 226.00
    expired (valid until 20 May) and 339.00 withdrawn; May: 113.00 accepted, 452.00
    awaiting an answer (valid until 19 June) and 56.50 expired yesterday (valid until 14
    June). In USD, June: 1,130.00 accepted. Left out: a draft dated in June, and a quote
    sent on 31 March."""
    acme = ClientFactory(code="ACME")
    west = ClientFactory(code="WEST", default_currency="USD")
    day = datetime.date
    quote(acme, "1000.00", day(2026, 4, 2), then=Answer.ACCEPTED)
    quote(acme, "500.00", day(2026, 4, 10), then=Answer.DECLINED)
    quote(acme, "200.00", day(2026, 4, 20), valid_until=day(2026, 5, 20))
    quote(acme, "300.00", day(2026, 4, 25), then="withdrawn")
    quote(acme, "100.00", day(2026, 5, 5), then=Answer.ACCEPTED)
    quote(acme, "400.00", day(2026, 5, 20), valid_until=day(2026, 6, 19))
    quote(acme, "50.00", day(2026, 5, 31), valid_until=day(2026, 6, 14))
    quote(west, "1000.00", day(2026, 6, 1), then=Answer.ACCEPTED)
    services.create_quote(
        client=acme, acting_user=None, lines=[line("1", "999.00")], issue_date=day(2026, 6, 1)
    )
    quote(acme, "700.00", day(2026, 3, 31))


def read_csv(response) -> list[dict]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def figures(row: dict) -> dict:
    return {key: value for key, value in row.items() if key not in ("period_end", "as_of")}


APRIL = {
    "period_start": "2026-04-01",
    "currency": "CAD",
    "sent": "4",
    "sent_value": "2260.00",  # 1,130.00 + 565.00 + 226.00 + 339.00
    "accepted": "1",
    "accepted_value": "1130.00",
    "declined": "1",
    "declined_value": "565.00",
    "expired": "1",
    "expired_value": "226.00",
    "withdrawn": "1",
    "withdrawn_value": "339.00",
    "awaiting": "0",
    "awaiting_value": "0.00",
    "accepted_percent": "33.3",  # 1 of the 3 decided: accepted, declined, expired
}
MAY = {
    "period_start": "2026-05-01",
    "currency": "CAD",
    "sent": "3",
    "sent_value": "621.50",  # 113.00 + 452.00 + 56.50
    "accepted": "1",
    "accepted_value": "113.00",
    "declined": "0",
    "declined_value": "0.00",
    "expired": "1",
    "expired_value": "56.50",
    "withdrawn": "0",
    "withdrawn_value": "0.00",
    "awaiting": "1",
    "awaiting_value": "452.00",
    "accepted_percent": "50.0",  # 1 of 2: the quote awaiting an answer is left out
}
JUNE_USD = {
    "period_start": "2026-06-01",
    "currency": "USD",
    "sent": "1",
    "sent_value": "1130.00",
    "accepted": "1",
    "accepted_value": "1130.00",
    "declined": "0",
    "declined_value": "0.00",
    "expired": "0",
    "expired_value": "0.00",
    "withdrawn": "0",
    "withdrawn_value": "0.00",
    "awaiting": "0",
    "awaiting_value": "0.00",
    "accepted_percent": "100.0",
}


def test_the_csv_counts_each_quote_in_the_month_of_its_date_by_what_it_is_today(office, history):
    rows = read_csv(office.get(URL, {**RANGE, "format": "csv"}))
    assert [figures(row) for row in rows] == [APRIL, MAY, JUNE_USD]
    assert [row["period_end"] for row in rows] == ["2026-04-30", "2026-05-31", "2026-06-30"]
    assert {row["as_of"] for row in rows} == {"2026-06-15"}


def test_a_quote_awaiting_an_answer_counts_as_expired_once_its_date_has_passed(office, history):
    with noon_in_toronto(datetime.date(2026, 6, 20)):
        rows = read_csv(office.get(URL, {**RANGE, "format": "csv"}))
    may = rows[1]
    # The 452.00 quote was valid until 19 June: expired on the 20th, so 1 of 3 decided.
    assert (may["expired"], may["expired_value"], may["awaiting"]) == ("2", "508.50", "0")
    assert may["accepted_percent"] == "33.3"


def test_the_page_shows_the_figures_the_totals_and_what_the_share_means(office, history):
    page = office.get(URL, RANGE)
    html = page.content.decode()
    assert page.status_code == 200
    cad, usd = page.context["sections"]
    assert (cad["currency"], usd["currency"]) == ("CAD", "USD")
    total = cad["total"]
    # 7 sent for 2,881.50; 2 accepted of the 5 decided (2 + 1 declined + 2 expired): 40 %.
    assert (total.sent.count, total.sent.value) == (7, D("2881.50"))
    assert [(o.count, o.value) for o in total.in_order] == [
        (2, D("1243.00")),
        (1, D("565.00")),
        (2, D("282.50")),
        (1, D("339.00")),
        (1, D("452.00")),
    ]
    assert total.accepted_percent == D("40.0")
    assert "2,881.50 CAD" in html and "33.3 %" in html and "40 %" in html
    assert "accepted ÷ (accepted + declined + expired)" in html
    assert "Download CSV" in html


def test_one_grouped_query_whatever_the_range(history):
    today = datetime.date(2026, 6, 15)
    for start in (datetime.date(2026, 4, 1), datetime.date(2021, 7, 1)):
        with CaptureQueriesContext(connection) as queries:
            selectors.quotes_report(start, today, period="month", today=today)
        assert len(queries) == 1


def test_by_quarter_the_months_add_up(office, history):
    rows = read_csv(office.get(URL, {**RANGE, "period": "quarter", "format": "csv"}))
    cad = next(row for row in rows if row["currency"] == "CAD")
    assert (cad["period_start"], cad["period_end"]) == ("2026-04-01", "2026-06-30")
    assert (cad["sent"], cad["sent_value"], cad["accepted_percent"]) == ("7", "2881.50", "40.0")


def test_a_range_without_quotes_says_so(office, history):
    page = office.get(URL, {"start": "2025-01-01", "end": "2025-12-31"})
    assert "No quote was sent in this range." in page.content.decode()
    assert (
        read_csv(office.get(URL, {"start": "2025-01-01", "end": "2025-12-31", "format": "csv"}))
        == []
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2026-06-30", "end": "2026-04-01"}, "must be on or after"),
        ({"start": "someday"}, "From: enter a valid date"),
        ({"period": "week"}, "By: select a valid choice"),
    ],
)
def test_a_bad_filter_is_named_on_the_page_and_refused_as_csv(office, business, params, message):
    page = office.get(URL, params)
    assert page.status_code == 200
    assert message in page.content.decode()
    download = office.get(URL, {**params, "format": "csv"})
    assert download.status_code == 400
    assert message in download.content.decode()


def test_the_report_is_listed_with_the_others(office, business):
    index = office.get("/reports/").content.decode()
    assert URL in index


def test_the_report_works_on_the_demo_data(office, business):
    call_command("seed_demo", stdout=io.StringIO())
    page = office.get(URL, {"start": "2026-01-01", "end": "2026-06-30"})
    assert page.status_code == 200
    rows = read_csv(office.get(URL, {"start": "2026-01-01", "end": "2026-06-30", "format": "csv"}))
    # The demo's six sent quotes (its draft is left out), one of each outcome but two
    # awaiting an answer (one for the client portal's demo contact).
    assert sum(int(row["sent"]) for row in rows) == 6
    for name in ("accepted", "declined", "expired", "withdrawn"):
        assert sum(int(row[name]) for row in rows) == 1, name
    assert sum(int(row["awaiting"]) for row in rows) == 2
