"""The quote pages: the list and its filters (expired derived in the business's time zone),
the form (the invoice form, reused, with live totals), every button of the detail page and
each refusal shown on it, the viewer's read-only pages, print and PDF, and the quotes on the
dashboard, a client's page and an invoice made from a quote.

A quote's PDF takes about a second to render: only the tests that accept a quote (or read
its PDF) render one."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from billing.models import Invoice
from quotes import services
from quotes.models import Answer, Channel, Quote, QuoteAnswer, QuoteChange, QuoteStatus
from tests.factories import ClientFactory, ServiceFactory, line
from tests.pdf import pdf_text

pytestmark = pytest.mark.django_db
D = Decimal
UTC = datetime.UTC


@pytest.fixture
def office(client, bookkeeper, business):
    client.force_login(bookkeeper)
    return client


@pytest.fixture
def reader(client, viewer, business):
    client.force_login(viewer)
    return client


def make_quote(client=None, lines=None, **fields):
    return services.create_quote(
        client=client or ClientFactory(),
        acting_user=None,
        lines=lines if lines is not None else [line("1", "100.00", description="Kitchen")],
        **fields,
    )


def sent_quote(client=None, **fields):
    return services.mark_sent(quote=make_quote(client, **fields), acting_user=None)


def accept(quote, user):
    """An acceptance recorded by ``user`` (renders the PDF accepted: about a second)."""
    return services.record_answer(
        quote=quote, acting_user=user, answer=Answer.ACCEPTED, name="Ann Client", channel="phone"
    )


def quote_post(client_code, *lines, **fields):
    data = {
        "client": client_code,
        "currency": "",
        "discount_kind": "",
        "discount_value": "",
        "issue_date": "",
        "valid_until": "",
        "notes": "",
        "terms": "Valid for the dates shown.",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
    }
    for index, values in enumerate(lines):
        for key, value in values.items():
            data[f"lines-{index}-{key}"] = value
    data.update(fields)
    return data


WORK = {"description": "Roof repair", "quantity": "1", "unit_price": "100", "taxable": "on"}


def page_of(response) -> str:
    return response.content.decode()


def shown_message(client, url) -> str:
    """The page at ``url`` with the messages left for it (a redirect's refusal)."""
    return page_of(client.get(url))


# --- List ---------------------------------------------------------------------------------
def test_list_shows_number_client_dates_state_and_total(office):
    quote = sent_quote(ClientFactory(code="ACME"))
    make_quote()
    page = page_of(office.get(reverse("quotes:list")))
    assert "Q-0001" in page and "ACME" in page
    assert "113.00 CAD" in page
    assert "status-sent" in page and "status-draft" in page
    assert quote.valid_until.strftime("%Y") in page


def test_list_filters_by_each_state(office, bookkeeper):
    draft = make_quote()
    sent = sent_quote()
    declined = sent_quote()
    services.record_answer(
        quote=declined, acting_user=None, answer=Answer.DECLINED, name="Bo", channel="email"
    )
    withdrawn = services.withdraw_quote(quote=sent_quote(), acting_user=None)
    accepted = sent_quote()
    accept(accepted, bookkeeper)

    def shown(**params):
        return {quote.pk for quote in office.get(reverse("quotes:list"), params).context["page"]}

    assert shown(state="draft") == {draft.pk}
    assert shown(state="sent") == {sent.pk}
    assert shown(state="declined") == {declined.pk}
    assert shown(state="withdrawn") == {withdrawn.pk}
    assert shown(state="accepted") == {accepted.pk}
    assert shown(state="expired") == set()
    assert len(shown()) == 5


def test_expired_is_derived_in_the_business_time_zone(client, bookkeeper, business):
    with time_machine.travel(datetime.datetime(2026, 3, 1, 17, tzinfo=UTC), tick=False):
        quote = sent_quote()
    assert quote.valid_until == datetime.date(2026, 3, 31)

    def shown(state):
        client.force_login(bookkeeper)
        page = client.get(reverse("quotes:list"), {"state": state}).context["page"]
        return {row.pk for row in page}

    # 23:30 on March 31 in Toronto: still valid.
    with time_machine.travel(datetime.datetime(2026, 4, 1, 3, 30, tzinfo=UTC), tick=False):
        assert shown("sent") == {quote.pk}
        assert shown("expired") == set()
    # 00:30 on April 1 in Toronto: expired, though UTC had been in April for hours.
    with time_machine.travel(datetime.datetime(2026, 4, 1, 4, 30, tzinfo=UTC), tick=False):
        assert shown("sent") == set()
        assert shown("expired") == {quote.pk}
        client.force_login(bookkeeper)
        assert "status-expired" in page_of(client.get(reverse("quotes:list")))
        detail = page_of(client.get(quote.get_absolute_url()))
        assert "quote-expired" in detail


def test_list_filters_by_client_in_any_case(office):
    acme = make_quote(ClientFactory(code="ACME"))
    make_quote(ClientFactory(code="OTHER"))
    page = office.get(reverse("quotes:list"), {"client": "acme "}).context["page"]
    assert [quote.pk for quote in page] == [acme.pk]


def test_list_with_a_bad_filter_says_so_without_failing(office):
    make_quote()
    response = office.get(reverse("quotes:list"), {"state": "lost", "older": "x~y"})
    assert response.status_code == 200
    assert "Select a valid choice" in page_of(response)
    assert list(response.context["page"]) == []


def test_list_pages_like_the_invoice_list(office):
    client = ClientFactory()
    for _ in range(51):
        make_quote(client)
    first = office.get(reverse("quotes:list"))
    assert len(first.context["page"]) == 50
    older = first.context["page"].older
    second = office.get(reverse("quotes:list"), {"older": older})
    assert len(second.context["page"]) == 1


# --- The form -----------------------------------------------------------------------------
def test_the_new_quote_page_is_the_invoice_form_with_valid_until(office):
    page = page_of(office.get(reverse("quotes:create")))
    assert 'id="invoice-form"' in page  # the invoice form's script drives it
    assert f'data-preview-url="{reverse("quotes:preview")}"' in page
    assert 'name="valid_until"' in page and 'name="due_date"' not in page
    assert "New quote" in page and "Quote discount" in page


def test_new_quote_through_the_form_with_its_live_totals(office):
    ClientFactory(code="ACME")
    ServiceFactory(code="HOURS", unit_price=D("85.0000"), unit="h")
    data = quote_post(
        "ACME",
        {"service": "HOURS", "quantity": "2", "taxable": "on"},
        {"description": "Materials", "quantity": "1", "unit_price": "30.00"},
        discount_kind="percent",
        discount_value="10",
        valid_until="2030-01-31",
    )
    preview = office.post(reverse("quotes:preview"), data).json()
    # 170.00 + 30.00 = 200.00; less 10 % = 180.00; HST 13 % of 153.00 taxable = 19.89.
    assert preview["ok"], preview
    assert preview["lines"] == ["170.00 CAD", "30.00 CAD"]
    assert preview["subtotal"] == "200.00 CAD"
    assert preview["discount_total"] == "20.00 CAD"
    response = office.post(reverse("quotes:create"), data)
    quote = Quote.objects.get()
    assert response.status_code == 302
    assert response["Location"] == quote.get_absolute_url()
    assert f"{quote.total:.2f} CAD" == preview["total"]
    assert quote.status == QuoteStatus.DRAFT and quote.number is None
    assert quote.valid_until == datetime.date(2030, 1, 31)
    assert quote.terms == "Valid for the dates shown."
    assert [(ln.service_id is not None, ln.amount) for ln in quote.lines.all()] == [
        (True, D("170.00")),
        (False, D("30.00")),
    ]


def test_a_refusal_of_the_operation_is_shown_on_its_field(office):
    ClientFactory(code="ACME")
    data = quote_post("ACME", WORK, issue_date="2026-03-10", valid_until="2026-03-01")
    response = office.post(reverse("quotes:create"), data)
    assert response.status_code == 200
    assert "Valid until: cannot be before the quote date" in page_of(response)
    assert not Quote.objects.exists()


def test_bad_numbers_in_a_line_are_shown_not_a_server_error(office):
    ClientFactory(code="ACME")
    response = office.post(reverse("quotes:create"), quote_post("ACME", WORK | {"quantity": "x"}))
    assert response.status_code == 200
    assert "is not a number" in page_of(response)
    preview = office.post(reverse("quotes:preview"), quote_post("ACME", WORK | {"quantity": "x"}))
    assert preview.json()["ok"] is False


def test_edit_a_draft(office):
    quote = make_quote(ClientFactory(code="ACME"))
    other = ClientFactory(code="OTHER")
    url = reverse("quotes:edit", args=[quote.pk])
    page = page_of(office.get(url))
    assert 'value="Kitchen"' in page and f'name="quote" value="{quote.pk}"' in page
    data = quote_post("OTHER", WORK | {"unit_price": "200"}, notes="Two coats")
    response = office.post(url, data)
    assert response.status_code == 302
    quote.refresh_from_db()
    assert (quote.client, quote.total, quote.notes) == (other, D("226.00"), "Two coats")
    assert not QuoteChange.objects.exists()  # a draft's changes are not a sent quote's


def test_editing_a_sent_quote_keeps_its_client_and_records_the_change(office):
    quote = sent_quote(ClientFactory(code="ACME"))
    ClientFactory(code="OTHER")
    url = reverse("quotes:edit", args=[quote.pk])
    assert "every change is recorded" in page_of(office.get(url))
    # The page shows the client disabled: a browser posts no value for it.
    data = quote_post(
        "OTHER",
        WORK | {"unit_price": "150"},
        issue_date=quote.issue_date.isoformat(),
        valid_until=quote.valid_until.isoformat(),
    )
    del data["client"]
    preview = office.post(reverse("quotes:preview"), data | {"quote": str(quote.pk)}).json()
    assert preview["ok"] and preview["total"] == "169.50 CAD"
    assert office.post(url, data).status_code == 302
    quote.refresh_from_db()
    assert quote.client.code == "ACME" and quote.total == D("169.50")
    (change,) = QuoteChange.objects.filter(quote=quote)
    assert {"lines", "total"} <= set(change.changes)
    page = page_of(office.get(quote.get_absolute_url()))
    assert "Changes since it was sent" in page
    assert "113.00" in page and "169.50" in page  # the total, before and after


# --- The detail page and its buttons ------------------------------------------------------
def test_a_drafts_page_offers_its_buttons(office):
    quote = make_quote()
    page = page_of(office.get(quote.get_absolute_url()))
    for url_name in ("edit", "mark_sent", "delete", "duplicate"):
        assert reverse(f"quotes:{url_name}", args=[quote.pk]) in page
    for url_name in ("withdraw", "answer", "convert"):
        assert reverse(f"quotes:{url_name}", args=[quote.pk]) not in page
    assert "Draft quote" in page


def test_mark_as_sent_with_its_dates(office):
    quote = make_quote()
    url = reverse("quotes:mark_sent", args=[quote.pk])
    response = office.post(url, {"issue_date": "2026-05-04", "valid_until": "2026-06-30"})
    assert response["Location"] == quote.get_absolute_url()
    quote.refresh_from_db()
    assert quote.number == "Q-0001" and quote.status == QuoteStatus.SENT
    assert (quote.issue_date, quote.valid_until) == (
        datetime.date(2026, 5, 4),
        datetime.date(2026, 6, 30),
    )
    page = shown_message(office, quote.get_absolute_url())
    assert "Quote marked as sent." in page
    for url_name in ("edit", "withdraw", "answer", "convert"):
        assert reverse(f"quotes:{url_name}", args=[quote.pk]) in page
    assert reverse("quotes:delete", args=[quote.pk]) not in page


def test_mark_as_sent_with_bad_dates_shows_the_error_on_its_field(office):
    quote = make_quote()
    url = reverse("quotes:mark_sent", args=[quote.pk])
    response = office.post(url, {"issue_date": "2026-05-04", "valid_until": "2026-05-01"})
    assert response.status_code == 200
    assert "Valid until: cannot be before the quote date" in page_of(response)
    quote.refresh_from_db()
    assert quote.is_draft


def test_marking_an_empty_draft_as_sent_is_refused_with_its_message(office):
    quote = make_quote(lines=[])
    response = office.post(reverse("quotes:mark_sent", args=[quote.pk]), {})
    assert response["Location"] == quote.get_absolute_url()
    page = shown_message(office, quote.get_absolute_url())
    assert "Add a line with an amount before sending the quote." in page


def test_withdraw_with_a_reason_then_a_second_time_is_refused(office):
    quote = sent_quote()
    url = reverse("quotes:withdraw", args=[quote.pk])
    office.post(url, {"reason": "The client chose another firm."})
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.WITHDRAWN
    page = shown_message(office, quote.get_absolute_url())
    assert "The client chose another firm." in page and "status-withdrawn" in page
    assert reverse("quotes:edit", args=[quote.pk]) not in page
    office.post(url, {"reason": ""})
    page = shown_message(office, quote.get_absolute_url())
    assert "Quote Q-0001 was withdrawn and is closed; duplicate it to offer it again." in page


def test_delete_a_draft(office):
    quote = make_quote()
    response = office.post(reverse("quotes:delete", args=[quote.pk]))
    assert response["Location"] == reverse("quotes:list")
    assert not Quote.objects.exists()
    assert office.get(quote.get_absolute_url()).status_code == 404


def test_deleting_a_sent_quote_is_refused_with_its_message(office):
    quote = sent_quote()
    response = office.post(reverse("quotes:delete", args=[quote.pk]))
    assert response["Location"] == quote.get_absolute_url()
    page = shown_message(office, quote.get_absolute_url())
    assert "Quote Q-0001 has been sent and keeps its number; withdraw it instead." in page
    assert Quote.objects.filter(pk=quote.pk).exists()


def test_duplicate_opens_the_copy_in_the_form(office):
    quote = sent_quote()
    response = office.post(reverse("quotes:duplicate", args=[quote.pk]))
    copy = Quote.objects.exclude(pk=quote.pk).get()
    assert response["Location"] == reverse("quotes:edit", args=[copy.pk])
    assert copy.is_draft and copy.total == quote.total


def test_recording_a_decline_after_expiry_shows_who_how_and_when(office, bookkeeper):
    with time_machine.travel(datetime.datetime(2026, 3, 1, 17, tzinfo=UTC), tick=False):
        quote = sent_quote()
    with time_machine.travel(datetime.datetime(2026, 4, 10, 17, tzinfo=UTC), tick=False):
        office.force_login(bookkeeper)
        url = reverse("quotes:answer", args=[quote.pk])
        response = office.post(
            url,
            {"answer": "declined", "name": "Bo Client", "channel": "email", "reason": "Too dear"},
        )
        assert response["Location"] == quote.get_absolute_url()
        page = shown_message(office, quote.get_absolute_url())
    answer = QuoteAnswer.objects.get(quote=quote)
    assert (answer.answer, answer.channel, answer.recorded_by) == ("declined", "email", bookkeeper)
    assert answer.after_expiry
    assert "The client&#x27;s answer is recorded." in page
    for shown in ("Bo Client", "E-mail", "Too dear", "books1", "after the quote expired"):
        assert shown in page
    assert reverse("quotes:edit", args=[quote.pk]) not in page


def test_recording_an_acceptance_shows_the_hash_of_the_pdf_accepted(office, bookkeeper):
    quote = sent_quote()
    office.post(
        reverse("quotes:answer", args=[quote.pk]),
        {"answer": "accepted", "name": "Ann Client", "channel": "in_person"},
    )
    answer = QuoteAnswer.objects.get(quote=quote)
    page = page_of(office.get(quote.get_absolute_url()))
    assert answer.channel == Channel.IN_PERSON and answer.pdf_sha256
    assert answer.pdf_sha256 in page and "In person" in page and "Ann Client" in page
    # Accepted: it never changes, so the page offers no edit, and an edit is refused.
    assert reverse("quotes:edit", args=[quote.pk]) not in page
    assert reverse("quotes:convert", args=[quote.pk]) in page
    response = office.get(reverse("quotes:edit", args=[quote.pk]))
    assert response["Location"] == quote.get_absolute_url()
    assert "Quote Q-0001 was accepted and never changes" in shown_message(
        office, quote.get_absolute_url()
    )
    assert office.post(reverse("quotes:edit", args=[quote.pk]), quote_post("X", WORK))[
        "Location"
    ] == (quote.get_absolute_url())


def test_an_answer_without_a_name_is_shown_on_its_field(office):
    quote = sent_quote()
    url = reverse("quotes:answer", args=[quote.pk])
    response = office.post(url, {"answer": "accepted", "name": "  ", "channel": "fax"})
    assert response.status_code == 200
    page = page_of(response)
    assert "Name: This field is required." in page
    assert "How: Select a valid choice." in page
    assert not QuoteAnswer.objects.exists()


def test_answering_a_draft_is_refused_with_its_message(office):
    quote = make_quote()
    office.post(
        reverse("quotes:answer", args=[quote.pk]),
        {"answer": "declined", "name": "Bo", "channel": "phone"},
    )
    page = shown_message(office, quote.get_absolute_url())
    assert "This quote is a draft: send it (or mark it sent) before it is answered." in page


def test_converting_a_sent_quote_accepts_it_on_the_clients_behalf_and_links_both(office):
    quote = sent_quote()
    response = office.post(reverse("quotes:convert", args=[quote.pk]))
    invoice = Invoice.objects.get()
    assert response["Location"] == invoice.get_absolute_url()
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED and quote.invoice == invoice
    assert QuoteAnswer.objects.get(quote=quote).channel == Channel.CONVERSION
    invoice_page = page_of(office.get(invoice.get_absolute_url()))
    assert "Draft invoice made from Q-0001" in invoice_page
    assert "From quote" in invoice_page and quote.get_absolute_url() in invoice_page
    quote_page = page_of(office.get(quote.get_absolute_url()))
    assert "Converted into invoice" in quote_page and invoice.get_absolute_url() in quote_page
    assert reverse("quotes:convert", args=[quote.pk]) not in quote_page
    # Converting again gives the same invoice.
    again = office.post(reverse("quotes:convert", args=[quote.pk]))
    assert again["Location"] == invoice.get_absolute_url()
    assert Invoice.objects.count() == 1
    assert "was already converted" in page_of(office.get(invoice.get_absolute_url()))


def test_converting_a_draft_is_refused_with_its_message(office):
    quote = make_quote()
    response = office.post(reverse("quotes:convert", args=[quote.pk]))
    assert response["Location"] == quote.get_absolute_url()
    page = shown_message(office, quote.get_absolute_url())
    assert "This quote is a draft: send it before converting it into an invoice." in page
    assert not Invoice.objects.exists()


def test_an_invoice_not_made_from_a_quote_says_nothing_of_one(office):
    ClientFactory(code="ACME")
    office.post(
        reverse("invoices:create"),
        quote_post("ACME", WORK) | {"due_date": ""},
    )
    invoice = Invoice.objects.get()
    assert "From quote" not in page_of(office.get(invoice.get_absolute_url()))


def test_actions_are_post_only_where_they_take_no_details(office):
    quote = sent_quote()
    for url_name in ("convert", "duplicate"):
        assert office.get(reverse(f"quotes:{url_name}", args=[quote.pk])).status_code == 405


def test_an_unknown_quote_is_not_found(office):
    assert office.get(reverse("quotes:detail", args=[999])).status_code == 404
    assert office.get(reverse("quotes:detail", args=[2**63])).status_code == 404
    assert office.post(reverse("quotes:convert", args=[999])).status_code == 404


# --- Permissions --------------------------------------------------------------------------
def test_a_viewer_reads_but_is_offered_no_button_and_cannot_act(reader):
    quote = sent_quote()
    assert reader.get(reverse("quotes:list")).status_code == 200
    page = page_of(reader.get(quote.get_absolute_url()))
    assert "Q-0001" in page
    for url_name in ("edit", "mark_sent", "withdraw", "answer", "convert", "duplicate", "delete"):
        url = reverse(f"quotes:{url_name}", args=[quote.pk])
        assert url not in page
        assert (
            reader.post(url, {"answer": "accepted", "name": "X", "channel": "phone"}).status_code
            == 403
        )
    assert reader.get(reverse("quotes:create")).status_code == 403
    assert reader.post(reverse("quotes:create"), quote_post("X", WORK)).status_code == 403
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT and not Invoice.objects.exists()
    assert reverse("quotes:create") not in page_of(reader.get(reverse("quotes:list")))


def test_pages_need_a_login(client, business):
    quote = make_quote()
    response = client.get(quote.get_absolute_url())
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.post(reverse("quotes:delete", args=[quote.pk])).status_code == 302
    assert Quote.objects.exists()


# --- Print and PDF ------------------------------------------------------------------------
def test_print_page_shows_the_document_alone(office):
    quote = sent_quote()
    page = page_of(office.get(reverse("quotes:print", args=[quote.pk])))
    assert "invoice-doc doc-kind-quote" in page and "Valid until" in page
    assert "data-otb-print" in page


def test_pdf_reads_back_as_the_quote(office):
    quote = sent_quote(valid_until="2030-06-30")
    response = office.get(reverse("quotes:pdf", args=[quote.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="Q-0001.pdf"'
    text = pdf_text(response.content)
    for shown in ("Quote", "Q-0001", "Valid until", "113.00"):
        assert shown in text


# --- Elsewhere: the dashboard, the client's page, the menu --------------------------------
def test_dashboard_shows_the_quotes_awaiting_an_answer_and_their_value(office, bookkeeper):
    usd = ClientFactory(code="USDCO", country="US", default_currency="USD")
    with time_machine.travel(datetime.datetime(2026, 3, 1, 17, tzinfo=UTC), tick=False):
        sent_quote()  # valid until March 31
    with time_machine.travel(datetime.datetime(2026, 4, 10, 17, tzinfo=UTC), tick=False):
        sent_quote(lines=[line("1", "100.00")])
        sent_quote(lines=[line("2", "100.00")])
        sent_quote(usd, lines=[line("1", "50.00")])
        make_quote()  # a draft awaits nothing
        services.withdraw_quote(quote=sent_quote(), acting_user=None)
        office.force_login(bookkeeper)
        response = office.get(reverse("home"))
    awaiting = response.context["awaiting"]
    assert awaiting.count == 3 and awaiting.expired_count == 1
    assert [(row.currency, row.count, row.value) for row in awaiting.per_currency] == [
        ("CAD", 2, D("339.00")),
        ("USD", 1, D("56.50")),  # the default tax set: HST 13 %
    ]
    page = page_of(response)
    assert "Quotes awaiting an answer" in page
    assert "339.00 CAD" in page and "56.50 USD" in page
    assert "1 expired without an answer" in page


def test_client_page_lists_its_quotes(office):
    acme = ClientFactory(code="ACME")
    quote = sent_quote(acme)
    make_quote(ClientFactory(code="OTHER"))
    page = page_of(office.get(acme.get_absolute_url()))
    assert quote.get_absolute_url() in page and "Q-0001" in page
    assert f"{reverse('quotes:create')}?client=ACME" in page
    assert f"{reverse('quotes:list')}?client=ACME" in page


def test_the_menu_leads_to_the_quotes(office):
    page = page_of(office.get(reverse("quotes:list")))
    assert f'href="{reverse("quotes:list")}"' in page
    assert "nav-link active" in page
