"""One date style and one number style on every office page (issue 16, item 13): dates as
the language writes them ("Dec 2, 2026", as on the invoice), numbers grouped ("6,400.00"),
and forms show numbers without their stored precision ("12.5", not "12.500")."""

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from tests.office import fill_office, office_pages

pytestmark = pytest.mark.django_db

ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
# Three or more decimals ending in a zero: a stored precision shown as is ("12.500").
STORED_PRECISION = re.compile(r"\b\d+\.\d{2,}0\b")
# Four digits or more before the point with no thousands separator ("6400.00").
UNGROUPED = re.compile(r"(?<![\d,.])\d{4,}\.\d")
# Inputs whose value is not a number or date a person reads as written.
MACHINE_INPUTS = {"hidden", "date", "datetime-local", "month", "submit", "checkbox", "radio"}
BACK_OFFICE = [
    "/admin/billing/service/",
    "/admin/billing/invoice/",
    "/admin/billing/payment/",
    "/admin/billing/creditnote/",
    "/admin/billing/refund/",
    "/admin/ledger/ledgerentry/",
    "/admin/audit/auditrecord/",
    "/admin/rates/exchangerate/",
]


class ReadText(HTMLParser):
    """What a person reads on a page: its text, outside scripts and styles, and the values
    typed into its text boxes."""

    def __init__(self):
        super().__init__()
        self.text: list[str] = []
        self.values: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("script", "style", "template"):
            self.skipping += 1
        elif tag == "input" and attributes.get("type", "text") not in MACHINE_INPUTS:
            self.values.append(attributes.get("value") or "")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template"):
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping:
            self.text.append(data)


def read(html: str) -> ReadText:
    reader = ReadText()
    reader.feed(html)
    return reader


def test_every_office_page_writes_dates_and_numbers_one_way(client, administrator, business):
    office = fill_office()
    client.force_login(administrator)
    services = [reverse("services:edit", args=[code]) for code in ("RETAINER", "KWH")]
    found = {}
    for url in [*office_pages(office), *services, *BACK_OFFICE]:
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        page = read(response.content.decode())
        text = " ".join(page.text)
        problems = [
            *(f"date {m}" for m in ISO_DATE.findall(text)),
            *(f"number {m}" for m in STORED_PRECISION.findall(text)),
            *(f"ungrouped {m}" for m in UNGROUPED.findall(text)),
            *(f"form shows {v}" for v in page.values if STORED_PRECISION.search(v)),
        ]
        if problems:
            found[url] = problems
    assert found == {}, found


def test_lists_write_dates_as_the_invoice_does(client, administrator, business):
    office = fill_office()
    client.force_login(administrator)
    written = office.invoice.issue_date.strftime("%b %-d, %Y")
    document = client.get(reverse("invoices:detail", args=[office.invoice.number])).content
    assert written in document.decode()
    for url in (
        reverse("invoices:list"),
        reverse("payments:list"),
        reverse("clients:detail", args=[office.acme.code]),
        reverse("clients:ledger", args=[office.acme.code]),
        "/",
    ):
        assert written in " ".join(read(client.get(url).content.decode()).text), url


def test_the_services_list_groups_prices_and_keeps_their_decimals(client, administrator):
    fill_office()
    client.force_login(administrator)
    text = " ".join(read(client.get(reverse("services:list")).content.decode()).text)
    assert "6,400.00" in text
    assert "0.6125" in text
    assert "65.00" in text
    back_office = " ".join(read(client.get("/admin/billing/service/").content.decode()).text)
    assert "6,400.00" in back_office and "0.6125" in back_office


def test_the_service_form_shows_a_price_without_its_stored_zeros(client, administrator):
    fill_office()
    client.force_login(administrator)
    form = read(client.get(reverse("services:edit", args=["RETAINER"])).content.decode())
    assert "6400" in form.values
    assert not any(value.startswith("6400.") for value in form.values)


def test_a_services_prices_in_other_currencies_are_written_the_same_way(client, administrator):
    fill_office()
    client.force_login(administrator)
    text = " ".join(read(client.get(reverse("services:list")).content.decode()).text)
    assert "4,700.00 USD" in text and "0.45 EUR" in text
    form = read(client.get(reverse("services:edit", args=["RETAINER"])).content.decode())
    assert "4700" in form.values
    assert not any(value.startswith("4700.") for value in form.values)


def test_the_style_checks_catch_what_they_are_for():
    assert ISO_DATE.findall("issued 2026-12-02") == ["2026-12-02"]
    assert STORED_PRECISION.findall("12.500 and 95.0000 but not 12.50 or 0.6125") == [
        "12.500",
        "95.0000",
    ]
    assert UNGROUPED.findall("6400.00 but not 6,400.00 or 640.00") == ["6400.0"]
    page = read('<p>Dec 2</p><script>x="2026-01-01"</script><input value="5.000">')
    assert page.text == ["Dec 2"] and page.values == ["5.000"]


def test_the_change_history_shows_recorded_values_as_the_pages_write_them():
    from otb.display import shown

    assert shown("2026-12-02") == "Dec 2, 2026"
    assert shown("12.500") == "12.50"
    assert shown("6400.0000") == "6,400.00"
    assert shown("0.6125") == "0.6125"
    assert shown("INV-0001") == "INV-0001"
    assert shown("2026-13-45") == "2026-13-45"
    assert shown([{"quantity": "5.000", "description": "Paint"}]) == (
        "quantity: 5.00, description: Paint"
    )
    assert shown(7) == 7
