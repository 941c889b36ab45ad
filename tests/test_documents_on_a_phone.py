"""The documents' tables on a phone, in a real browser (Debian's chromium): at 390 px an
invoice's (and a quote's) lines and a statement's entries and open invoices are blocks of
labelled figures, every cell on the screen, instead of a table cut off at the second column
that had to be swiped sideways with nothing to say so. At desktop width they are tables as
before, and the PDFs (invoice.css alone) never see invoice-screen.css."""

import datetime

import pytest
from django.urls import reverse

from billing.services import create_credit_note, issue_credit_note
from links.documents import Statement
from links.tests.helpers import link_for, sent_quote
from settings_app.selectors import business_today
from tests.factories import issued, line, pay, quebec_client

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
TABLES = {
    "invoice_link:page": [".doc-lines"],
    "quote_link:page": [".doc-lines"],
    "statement_link:page": [".statement-entries", ".statement-open"],
}
LONG = "On-call maintenance retainer, December 2026, including the weekend call-outs"

# The cells with text of the table that go past the screen's edges or are hidden, and
# whether the document (or a table's box) scrolls sideways.
OFF_SCREEN = """(table) => {
  const cells = [...document.querySelectorAll(`${table} tbody td`)]
    .filter(cell => cell.textContent.trim() !== "");
  const off = cells.filter(cell => {
    const box = cell.getBoundingClientRect();
    return box.width === 0 || box.height === 0 || box.left < 0
      || box.right > window.innerWidth || getComputedStyle(cell).visibility !== "visible";
  }).map(cell => cell.textContent.trim());
  const scrolling = [".invoice-doc", ".doc-lines-box", table]
    .flatMap(selector => [...document.querySelectorAll(selector)])
    .filter(box => box.scrollWidth > box.clientWidth + 1)
    .map(box => box.className);
  return {cells: cells.length, off, scrolling};
}"""
# What a cell shows on a phone: its label (from data-label) and its text.
SHOWN = "cell => getComputedStyle(cell, '::before').content + ' ' + cell.innerText"


@pytest.fixture(autouse=True)
def _rows(migration_rows):
    pass


@pytest.fixture
def laurier(business):
    """A Quebec client: GST and QST, so a line may carry one of them (a Taxes column)."""
    return quebec_client()


@pytest.fixture
def invoice(laurier):
    """The widest lines there are: a unit, a line discount and a line's own taxes."""
    return issued(
        client=laurier,
        lines=[
            line("12", "1068.06", description=LONG, unit="h", discount_percent="5"),
            line("60", "2.50", description="Travel", unit="km", taxes=["GST"]),
        ],
    )


@pytest.fixture
def links(laurier, invoice):
    """The link pages' addresses, by URL name: the invoice, a quote, the statement."""
    pay(invoice, "100.00")
    note = create_credit_note(
        invoice=invoice, acting_user=None, kind="amount", amount="50.00", reason="Scratched"
    )
    issue_credit_note(credit_note=note, acting_user=None)
    quote = sent_quote(client=laurier, description=LONG)
    today = business_today()
    statement = Statement(laurier, today - datetime.timedelta(days=60), today)
    return {
        name: reverse(name, args=[link_for(document, recipient=laurier.email)[1]])
        for name, document in (
            ("invoice_link:page", invoice),
            ("quote_link:page", quote),
            ("statement_link:page", statement),
        )
    }


@pytest.mark.browser
@pytest.mark.parametrize("name", list(TABLES))
def test_every_cell_of_a_document_is_on_a_phones_screen(browser_page, links, name):
    page = browser_page
    page.set_viewport_size(PHONE)
    page.goto(links[name])

    for table in TABLES[name]:
        page.locator(table).wait_for()
        found = page.evaluate(OFF_SCREEN, table)
        assert found["cells"] >= 2, table
        assert found["off"] == [], (table, found["off"])
        assert found["scrolling"] == [], (table, found["scrolling"])
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Each figure says what it is: its column's name is beside it.
    amount = page.locator(f"{TABLES[name][0]} tbody tr").first.locator("td.col-amount")
    assert amount.is_visible() and amount.inner_text().strip()
    box = amount.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    shown = amount.evaluate(SHOWN)
    label = "Balance" if name == "statement_link:page" else "Amount"
    assert label in shown and "CAD" in shown, shown


@pytest.mark.browser
def test_an_invoices_line_reads_as_labelled_figures_on_a_phone(browser_page, links):
    """The description on its own line(s), then "Quantity 12 h · Unit price ...", the
    amount at the right edge of the line."""
    page = browser_page
    page.set_viewport_size(PHONE)
    page.goto(links["invoice_link:page"])

    row = page.locator(".doc-lines tbody tr").first
    description, amount = row.locator("td.col-description"), row.locator("td.col-amount")
    assert description.inner_text() == LONG
    header = page.locator(".doc-lines thead").bounding_box()  # there for a screen reader
    assert header is not None and header["height"] <= 1
    shown = [row.locator("td").nth(i).evaluate(SHOWN) for i in range(row.locator("td").count())]
    assert [text for text in shown if "Quantity" in text] == ['"Quantity " 12']
    assert "none h" in shown  # the unit beside its quantity, unlabelled
    assert any(text.startswith('"· Unit price "') for text in shown), shown
    assert any(text.startswith('"· Discount "') and "5 %" in text for text in shown), shown
    description_box, amount_box = description.bounding_box(), amount.bounding_box()
    assert description_box is not None and amount_box is not None
    assert amount_box["y"] >= description_box["y"] + description_box["height"]  # beneath
    row_box = row.bounding_box()
    assert row_box is not None
    assert abs(amount_box["x"] + amount_box["width"] - (row_box["x"] + row_box["width"])) <= 12


@pytest.mark.browser
@pytest.mark.parametrize("name", list(TABLES))
def test_a_document_keeps_its_tables_on_a_desktop(browser_page, links, name):
    page = browser_page
    page.set_viewport_size(DESKTOP)
    page.goto(links[name])

    for table in TABLES[name]:
        page.locator(table).wait_for()
        assert page.locator(f"{table} thead th").first.is_visible()
        assert page.locator(table).evaluate("t => getComputedStyle(t).display") == "table"
        row = page.locator(f"{table} tbody tr").first
        tops = row.locator("td").evaluate_all(
            "cells => cells.map(cell => Math.round(cell.getBoundingClientRect().top))"
        )
        assert len(set(tops)) == 1, (table, tops)  # one row: every cell side by side
        label = row.locator("td").last.evaluate(SHOWN)
        assert label.startswith(("none", "normal")), label  # no label beside a figure


def test_the_pdfs_never_see_the_screen_stylesheet(invoice):
    """The phone layout is invoice-screen.css's alone: the PDFs' pages link invoice.css
    only, and it shows no cell's label, so the PDFs are as they were."""
    from django.contrib.staticfiles import finders
    from django.template.loader import render_to_string

    from billing.pdf import PDF_TEMPLATE, STYLESHEET, document_data
    from reports.selectors import statement
    from settings_app.selectors import get_business_settings

    today = business_today()
    report = statement(invoice.client, today - datetime.timedelta(days=60), today)
    pages = [
        render_to_string(PDF_TEMPLATE, {"doc": document_data(invoice)}),
        render_to_string(
            "reports/statement_pdf.html", {"report": report, "business": get_business_settings()}
        ),
    ]
    for html in pages:
        assert 'data-label="Amount"' in html or 'data-label="Balance"' in html
        assert "invoice-screen.css" not in html and STYLESHEET in html
    with open(finders.find(STYLESHEET)) as stylesheet:
        assert "data-label" not in stylesheet.read()
