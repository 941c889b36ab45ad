"""Quotes in the back office: made, changed, sent, answered, converted and withdrawn through
quotes.services; every refusal shown on the page; an answered or withdrawn quote read-only;
only a draft deleted; answers and changes read-only."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from billing.models import Invoice, InvoiceStatus
from billing.tests.admin_forms import form_data, line_fields
from quotes import services
from quotes.models import Answer, Channel, Quote, QuoteAnswer, QuoteChange, QuoteLine, QuoteStatus
from tests.factories import ClientFactory, ServiceFactory, line

D = Decimal
pytestmark = pytest.mark.django_db
ADD = "admin:quotes_quote_add"
# Noon in Toronto on 10 March 2026: the business's today.
NOON = datetime.datetime(2026, 3, 10, 17, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOON, tick=False):
        yield


@pytest.fixture
def office(client, bookkeeper, business):
    client.force_login(bookkeeper)
    return client


def change_url(quote) -> str:
    return reverse("admin:quotes_quote_change", args=[quote.pk])


def make(client=None, **fields):
    return services.create_quote(
        client=client or ClientFactory(),
        acting_user=None,
        lines=[line("10", "85.00", description="Cabinets"), line("1", "250.00")],
        **fields,
    )


def sent(**fields):
    return services.mark_sent(quote=make(**fields), acting_user=None)


def accepted():
    quote = sent()
    services.record_answer(
        quote=quote, acting_user=None, answer=Answer.ACCEPTED, name="Ann", channel="phone"
    )
    return Quote.objects.get(pk=quote.pk)


def add_data(office, client, *lines, **fields):
    data = form_data(office.get(reverse(ADD)))
    data.update({"client": str(client.pk), **fields})
    for index, values in enumerate(lines):
        data.update(line_fields(index, **values))
    return data


def counts():
    return Quote.objects.count(), QuoteLine.objects.count(), Invoice.objects.count()


# --- Pages render -------------------------------------------------------------------------
def test_every_quote_page_renders(office):
    draft, quote, done = make(), sent(), accepted()
    services.update_quote(quote=quote, acting_user=None, notes="Changed")
    pages = [
        reverse("admin:quotes_quote_changelist"),
        reverse("admin:quotes_quote_changelist") + "?state=expired",
        reverse(ADD),
        change_url(draft),
        change_url(quote),
        change_url(done),
        reverse("admin:quotes_quote_mark_sent", args=[draft.pk]),
        reverse("admin:quotes_quote_answer", args=[quote.pk]),
        reverse("admin:quotes_quote_withdraw", args=[quote.pk]),
        reverse("admin:quotes_quote_convert", args=[quote.pk]),
        reverse("admin:quotes_quoteanswer_changelist"),
        reverse("admin:quotes_quoteanswer_change", args=[done.answer.pk]),
        reverse("admin:quotes_quotechange_changelist"),
        reverse("admin:quotes_quotechange_change", args=[QuoteChange.objects.get().pk]),
    ]
    for url in pages:
        assert office.get(url).status_code == 200, url


# --- Drafts -------------------------------------------------------------------------------
def test_a_draft_with_lines_is_made_through_the_operation(office):
    acme = ClientFactory()
    service = ServiceFactory(unit_price=D("85.0000"), unit="h")
    data = add_data(
        office,
        acme,
        {"service": str(service.pk), "quantity": "1.5", "discount_percent": "0", "taxable": "on"},
        {"description": "Materials", "quantity": "1", "unit_price": "20.00", "taxable": ""},
        notes="Kitchen",
    )
    response = office.post(reverse(ADD), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    quote = Quote.objects.get(client=acme)
    assert (quote.status, quote.number, quote.currency) == (QuoteStatus.DRAFT, None, "CAD")
    assert [line.amount for line in quote.lines.all()] == [D("127.50"), D("20.00")]
    assert quote.lines.first().description == service.name
    # 13 % on the taxable 127.50 only: 16.575 -> 16.58
    assert quote.total == D("164.08")
    assert quote.terms == quote.terms.strip() and quote.notes == "Kitchen"


@pytest.mark.parametrize(
    ("values", "fields", "message"),
    [
        ({"quantity": "abc"}, {}, "is not a number"),
        ({"discount_percent": "101"}, {}, "must be at most 100"),
        ({"description": ""}, {}, "Enter a description or choose a service"),
        ({}, {"discount_kind": "fixed", "discount_value": "5000"}, "cannot be more than"),
        ({}, {"issue_date": "2026-03-10", "valid_until": "2026-03-01"}, "cannot be before"),
    ],
)
def test_a_refusal_is_shown_on_the_form_and_nothing_saved(office, values, fields, message):
    good = {"description": "Work", "quantity": "1", "unit_price": "100", "discount_percent": "0"}
    data = add_data(office, ClientFactory(), good | values, **fields)
    before = counts()
    response = office.post(reverse(ADD), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert counts() == before


def test_a_draft_is_deleted_through_the_operation_and_a_sent_quote_never(office):
    draft, quote = make(), sent()
    delete = reverse("admin:quotes_quote_delete", args=[draft.pk])
    assert office.post(delete, {"post": "yes"}).status_code == 302
    assert not Quote.objects.filter(pk=draft.pk).exists()
    response = office.post(reverse("admin:quotes_quote_delete", args=[quote.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Quote.objects.filter(pk=quote.pk).exists()


# --- Sending and changing -----------------------------------------------------------------
def test_mark_sent_gives_the_next_q_number_and_refuses_bad_dates_on_its_form(office):
    quote = make()
    url = reverse("admin:quotes_quote_mark_sent", args=[quote.pk])
    response = office.post(url, {"issue_date": "2026-03-10", "valid_until": "2026-03-01"})
    assert response.status_code == 200
    assert "cannot be before the quote date" in response.content.decode()
    assert Quote.objects.get(pk=quote.pk).number is None
    assert office.post(url, {"issue_date": "2026-03-10", "valid_until": ""}).status_code == 302
    quote.refresh_from_db()
    assert (quote.number, quote.valid_until) == ("Q-0001", datetime.date(2026, 4, 9))


def test_mark_sent_action_numbers_the_selected_drafts(office):
    first, second, already = make(), make(), sent()
    response = office.post(
        reverse("admin:quotes_quote_changelist"),
        {"action": "mark_sent_selected", "_selected_action": [first.pk, second.pk, already.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "were already sent" in response.content.decode()
    assert sorted(Quote.objects.values_list("number", flat=True)) == ["Q-0001", "Q-0002", "Q-0003"]


def test_a_change_to_a_sent_quote_is_recorded_and_its_client_kept(office):
    quote = sent()
    url = change_url(quote)
    page = office.get(url)
    assert 'name="client"' not in page.content.decode()
    data = form_data(page)
    data["lines-0-quantity"] = "2"
    response = office.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    quote.refresh_from_db()
    # 2 × 85.00 + 250.00 = 420.00, HST 54.60
    assert quote.total == D("474.60")
    (change,) = QuoteChange.objects.filter(quote=quote)
    assert "lines" in change.changes
    assert "change history" in office.get(url).content.decode().lower()


def test_the_state_filter_finds_the_expired_quotes(office):
    expired = sent(issue_date="2026-01-01", valid_until="2026-01-31")
    valid = sent()
    listed = office.get(reverse("admin:quotes_quote_changelist") + "?state=expired")
    assert list(listed.context["cl"].result_list) == [expired]
    listed = office.get(reverse("admin:quotes_quote_changelist") + "?state=sent")
    assert list(listed.context["cl"].result_list) == [valid]
    assert "Expired" in listed.content.decode()  # the filter's choice, and the badges


# --- Answers, conversion, withdrawal -------------------------------------------------------
def test_an_answer_is_recorded_and_the_quote_is_then_read_only(office, bookkeeper):
    quote = sent()
    url = reverse("admin:quotes_quote_answer", args=[quote.pk])
    response = office.post(url, {"answer": "accepted", "name": " ", "channel": "phone"})
    assert response.status_code == 200  # the name is required
    assert not QuoteAnswer.objects.exists()
    response = office.post(url, {"answer": "accepted", "name": "Ann Client", "channel": "phone"})
    assert response.status_code == 302
    answer = QuoteAnswer.objects.get()
    assert (answer.channel, answer.recorded_by, len(answer.pdf_sha256)) == (
        Channel.PHONE,
        bookkeeper,
        64,
    )
    page = office.get(change_url(quote)).content.decode()
    assert "was accepted and never changes" in page
    assert 'name="notes"' not in page and 'name="lines-0-quantity"' not in page
    data = {"notes": "Changed", "client": str(quote.client_id)}
    assert office.post(change_url(quote), data).status_code == 403
    assert Quote.objects.get(pk=quote.pk).notes == ""


def test_convert_makes_one_draft_invoice(office):
    quote = accepted()
    url = reverse("admin:quotes_quote_convert", args=[quote.pk])
    assert office.post(url, {}).status_code == 302
    assert office.post(url, {}).status_code == 302
    invoice = Invoice.objects.get()
    assert (invoice.status, invoice.total) == (InvoiceStatus.DRAFT, quote.total)
    quote.refresh_from_db()
    assert quote.invoice == invoice
    assert (
        f"/admin/billing/invoice/{invoice.pk}/change/"
        in office.get(change_url(quote)).content.decode()
    )


def test_withdrawing_keeps_the_reason_and_a_refusal_is_a_message(office):
    quote = sent()
    url = reverse("admin:quotes_quote_withdraw", args=[quote.pk])
    assert office.post(url, {"reason": "Job cancelled"}).status_code == 302
    quote.refresh_from_db()
    assert (quote.status, quote.withdraw_reason) == (QuoteStatus.WITHDRAWN, "Job cancelled")
    # Withdrawn: it can no longer be answered; the refusal is told, nothing changes.
    answer = reverse("admin:quotes_quote_answer", args=[quote.pk])
    response = office.post(
        answer, {"answer": "accepted", "name": "Ann", "channel": "phone"}, follow=True
    )
    assert "was withdrawn" in response.content.decode()
    assert not QuoteAnswer.objects.exists()


# --- Roles and read-only rows --------------------------------------------------------------
def test_a_viewer_can_look_but_not_act(client, viewer, business):
    draft, quote = make(), sent()
    client.force_login(viewer)
    assert client.get(reverse("admin:quotes_quote_changelist")).status_code == 200
    assert client.get(change_url(quote)).status_code == 200
    assert client.get(reverse(ADD)).status_code == 403
    for name, obj in [
        ("mark_sent", draft),
        ("answer", quote),
        ("withdraw", quote),
        ("convert", quote),
    ]:
        url = reverse(f"admin:quotes_quote_{name}", args=[obj.pk])
        assert client.get(url).status_code == 403, name
        assert (
            client.post(url, {"answer": "accepted", "name": "A", "channel": "phone"}).status_code
            == 403
        )
    assert Quote.objects.filter(status=QuoteStatus.SENT).count() == 1


def test_answers_and_changes_are_never_added_changed_or_deleted(office):
    quote = accepted()
    answer = quote.answer
    assert office.get(reverse("admin:quotes_quoteanswer_add")).status_code == 403
    page = office.get(reverse("admin:quotes_quoteanswer_change", args=[answer.pk]))
    assert 'name="name"' not in page.content.decode()
    response = office.post(
        reverse("admin:quotes_quoteanswer_change", args=[answer.pk]), {"name": "Mallory"}
    )
    assert response.status_code == 403
    delete = reverse("admin:quotes_quoteanswer_delete", args=[answer.pk])
    assert office.post(delete, {"post": "yes"}).status_code == 403
    assert QuoteAnswer.objects.get().name == "Ann"
    assert office.get(reverse("admin:quotes_quotechange_add")).status_code == 403
