"""The revenue report reads well (issue 16, item 17): amounts in different currencies are
never ranked together, each currency's clients and services sit under its heading, the
periods are named short enough never to run together, and a month of reversals is a bar
below zero. The browser half is in test_browser.py."""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from billing.services import reverse_payment
from reports import charts, selectors
from reports.selectors import RevenuePeriod
from tests.factories import ClientFactory, ServiceFactory, issued, line, pay

pytestmark = pytest.mark.django_db
D = Decimal
JAN, FEB = datetime.date(2026, 1, 1), datetime.date(2026, 2, 1)


@pytest.fixture
def two_currencies(business):
    """A large EUR client and a small CAD one (the EUR figure is the larger number), each
    billed for two services; a CAD payment made in January and reversed in February."""
    painting = ServiceFactory(code="PAINT", name="Painting")
    design = ServiceFactory(code="DESIGN", name="Design")
    berlin = ClientFactory(code="BERLIN", name="Berlin GmbH", country="DE", default_currency="EUR")
    oak = ClientFactory(code="OAK", name="Oak Ridge")
    with time_machine.travel(datetime.datetime(2026, 1, 20, 15, tzinfo=datetime.UTC)):
        issued(
            client=berlin,
            lines=[line("1", "9000", service=painting), line("1", "100", service=design)],
            issue_date=datetime.date(2026, 1, 10),
        )
        cad = issued(
            client=oak,
            lines=[line("1", "500", service=design), line("1", "50", service=painting)],
            issue_date=datetime.date(2026, 1, 12),
        )
        payment = pay(cad, "300.00", when=datetime.date(2026, 1, 15))
    with time_machine.travel(datetime.datetime(2026, 2, 10, 15, tzinfo=datetime.UTC)):
        reverse_payment(payment=payment, reason="Cheque bounced", acting_user=None)
    return {"berlin": berlin, "oak": oak}


def test_top_clients_are_ranked_within_each_currency(two_currencies):
    found = selectors.top_clients(JAN, datetime.date(2026, 3, 31))
    assert list(found) == ["CAD", "EUR"]
    assert [(r["client__code"], r["invoiced"]) for r in found["CAD"]] == [("OAK", D("621.50"))]
    assert [r["client__code"] for r in found["EUR"]] == ["BERLIN"]


def test_services_are_grouped_by_currency_largest_first(two_currencies):
    found = selectors.by_service(JAN, datetime.date(2026, 3, 31))
    assert {currency: [r["service__code"] for r in rows] for currency, rows in found.items()} == {
        "CAD": ["DESIGN", "PAINT"],
        "EUR": ["PAINT", "DESIGN"],
    }


def test_the_page_puts_each_currencys_clients_and_services_under_its_heading(
    client, bookkeeper, two_currencies
):
    client.force_login(bookkeeper)
    with time_machine.travel(datetime.datetime(2026, 3, 31, 15, tzinfo=datetime.UTC)):
        page = client.get(reverse("reports:revenue") + "?start=2026-01-01&end=2026-03-31")
    html = page.content.decode()
    sections = dict(
        re.findall(
            r'<section class="mb-4 revenue-section" data-currency="(\w+)">(.*?)</section>',
            html,
            re.S,
        )
    )
    assert list(sections) == ["CAD", "EUR"]
    assert "Top clients, CAD" in sections["CAD"] and "By service, CAD" in sections["CAD"]
    assert "OAK" in sections["CAD"] and "BERLIN" not in sections["CAD"]
    assert "BERLIN" in sections["EUR"] and "OAK" not in sections["EUR"]
    assert "EUR" not in sections["CAD"].replace('data-currency="CAD"', "")


def test_a_month_of_reversals_is_a_bar_below_zero(client, bookkeeper, two_currencies):
    client.force_login(bookkeeper)
    with time_machine.travel(datetime.datetime(2026, 3, 31, 15, tzinfo=datetime.UTC)):
        html = client.get(reverse("reports:revenue") + "?start=2026-01-01&end=2026-03-31")
    cad = html.content.decode().split('data-currency="CAD"')[1].split("</svg>")[0]
    negative = re.findall(r'<rect [^>]*height="([\d.]+)"[^>]*class="bar-collected negative"', cad)
    assert len(negative) == 1 and float(negative[0]) > 10
    assert "Feb 2026: Collected -300.00 CAD" in cad
    assert re.search(r'class="tick-label">-\d', cad), "the axis goes below zero"


def test_the_scale_holds_negative_figures_and_zero():
    assert charts._scale([D("-300"), D("621.50")]) == (D("-500"), D("1000"), D("500"))
    assert charts._scale([D("-50")]) == (D("-60"), D(0), D("20"))
    assert charts._scale([D(0)]) == (D(0), D(1), D(1))


def test_periods_are_named_short_and_never_more_than_twelve():
    months = [datetime.date(2025 + (m // 12), m % 12 + 1, 1) for m in range(2, 26)]  # 24
    labels = charts.period_labels(months, "month")
    named = [label for label in labels if label.name]
    assert len(named) == 12
    assert (named[0].name, named[0].year) == ("Mar", "2025")
    assert [label.year for label in named if label.year] == ["2025", "2026", "2027"]
    assert all(label.full for label in labels) and labels[1].full == "Apr 2025"
    assert [(label.name, label.year) for label in charts.period_labels([JAN, FEB], "month")] == [
        ("Jan", "2026"),
        ("Feb", ""),
    ]
    quarters = charts.period_labels([JAN, datetime.date(2026, 4, 1)], "quarter")
    assert [(label.name, label.year) for label in quarters] == [("Q1", "2026"), ("Q2", "")]


def test_the_chart_draws_a_negative_bar_down_from_zero():
    periods = [
        RevenuePeriod(start=JAN, end=JAN, currency="CAD", invoiced=D(100), collected=D(100)),
        RevenuePeriod(start=FEB, end=FEB, currency="CAD", collected=D(-50)),
    ]
    svg = charts.invoiced_collected_svg(
        periods, currency="CAD", labels=charts.period_labels([JAN, FEB], "month")
    )
    bars = re.findall(
        r'<rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"'
        r'[^>]*class="bar-collected( negative)?"',
        svg,
    )
    (jan_y, jan_h, jan_neg), (feb_y, feb_h, feb_neg) = bars
    assert not jan_neg and feb_neg
    # January's bar ends where February's starts: on the zero line.
    assert float(jan_y) + float(jan_h) == pytest.approx(float(feb_y), abs=0.2)
    assert float(feb_h) == pytest.approx(float(jan_h) / 2, abs=0.2)


def test_each_currency_has_its_own_top_ten(two_currencies):
    for n, amount in enumerate(("700", "20", "900")):
        issued(
            client=ClientFactory(code=f"CAD{n}"),
            lines=[line("1", amount)],
            issue_date=datetime.date(2026, 3, 1),
        )
    found = selectors.top_clients(JAN, datetime.date(2026, 3, 31), limit=2)
    assert [r["client__code"] for r in found["CAD"]] == ["CAD2", "CAD0"]
    assert [r["client__code"] for r in found["EUR"]] == ["BERLIN"]
