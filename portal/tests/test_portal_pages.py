"""The signed-in client's pages of the portal (SPEC: Client portal and document links): its
issued invoices (never a draft), credit notes, quotes to accept or decline, payments and
available credit, each document with its PDF; nothing of another client's, every such
number answering the one "not found"; "I've paid" from the portal."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from audit.models import AuditRecord
from billing.errors import NotFound
from billing.models import Payment, PaymentMethod, PaymentStatus
from billing.selectors import available_credit, open_balance_due
from billing.services import cancel_invoice, create_credit_note, issue_credit_note
from links.tests.helpers import sent_quote
from outbox.models import Message, MessageKind
from portal import services
from quotes import services as quote_services
from quotes.models import Answer, Channel, QuoteAnswer, QuoteStatus
from settings_app.selectors import business_today
from tests.factories import draft, issued, line, pay
from tests.pdf import pdf_text

from .conftest import ANN, sign_in_directly
from .signin_helpers import not_found_for, without_csrf

pytestmark = pytest.mark.django_db

DOCUMENT_PAGES = {
    "invoice": ("portal:invoice", "portal:invoice_pdf"),
    "credit_note": ("portal:credit_note", "portal:credit_note_pdf"),
    "quote": ("portal:quote", "portal:quote_pdf"),
}


def nothing(browser) -> bytes:
    """The portal's one "not found" answer, as ``browser`` gets it."""
    return not_found_for(browser)


def page(name: str, *args) -> str:
    return reverse(name, args=list(args))


@pytest.fixture
def ann(maple, portal_client_for):
    return portal_client_for(maple)


@pytest.fixture
def documents(maple, birch, invoice, credit_note):
    """Maple's issued invoice and credit note, a sent quote, and Birch's own of each."""
    theirs = issued(client=birch, lines=[line("2", "100.00")])
    note = create_credit_note(
        invoice=theirs, acting_user=None, kind="amount", amount="11.30", reason="Damaged"
    )
    mine = {"invoice": invoice, "credit_note": credit_note, "quote": sent_quote(client=maple)}
    return {
        "MAPLE": mine,
        "BIRCH": {
            "invoice": theirs,
            "credit_note": issue_credit_note(credit_note=note, acting_user=None),
            "quote": sent_quote(client=birch, description="Birch decking"),
        },
    }


# --- The overview --------------------------------------------------------------------------
def test_the_overview_shows_the_offices_figures_per_currency(ann, maple, invoice):
    pay(invoice, "243.00")
    dollars = issued(client=maple, lines=[line("1", "100.00")], currency="USD")
    pay(dollars, "200.00")  # 113.00 USD due: 87.00 USD left as credit
    waiting = sent_quote(client=maple)

    response = ann.get(page("portal:home"))

    assert response.status_code == 200
    text = response.text
    accounts = {account.currency: account for account in response.context["accounts"]}
    assert accounts["CAD"].balance_due == open_balance_due(maple, "CAD") == Decimal("1000.00")
    assert accounts["USD"].credit == available_credit(maple, "USD") == Decimal("87.00")
    assert "1,000.00 CAD" in text and "87.00 USD" in text
    assert f'data-number="{invoice.number}"' in text  # open, to pay
    assert f'data-number="{dollars.number}"' not in text  # paid
    assert waiting.number in text and "Awaiting your answer" in text
    assert "Maple Leaf Property" in text and ANN in text
    assert response["Referrer-Policy"] == "no-referrer"
    assert 'aria-current="page" href="/portal/home/"' in text


def test_the_overview_counts_charges_beyond_the_invoices_as_the_statement_does(ann, maple, invoice):
    from billing.services import post_manual_debit

    post_manual_debit(
        client=maple, amount=Decimal("45.00"), memo="Returned cheque fee", acting_user=None
    )

    response = ann.get(page("portal:home"))

    [account] = response.context["accounts"]
    assert account.balance_due == Decimal("1243.00")
    assert account.other_charges == Decimal("45.00") and account.shown_credit == 0
    assert account.owing == Decimal("1288.00")  # the statement's "amount owing"
    text = response.text
    assert "Other charges" in text and "45.00 CAD" in text
    assert "Amount owing" in text and "1,288.00 CAD" in text


def test_without_a_session_the_overview_goes_to_the_sign_in_page(client, maple):
    response = client.get(page("portal:home"))

    assert response.status_code == 302 and response["Location"] == page("portal:sign_in")


# --- Lists ---------------------------------------------------------------------------------
def test_the_invoices_are_the_clients_issued_ones_newest_first(ann, maple, birch, invoice):
    later = issued(client=maple, issue_date=business_today() + datetime.timedelta(days=1))
    unissued = draft(client=maple)
    theirs = issued(client=birch)

    text = ann.get(page("portal:invoices")).text

    assert text.index(later.number) < text.index(invoice.number)
    assert "1,243.00 CAD" in text and 'status-pending">Pending' in text
    assert theirs.number not in text and "Birch" not in text
    assert f"#{unissued.pk}" not in text and "Draft" not in text
    assert page("portal:invoice", invoice.number) in text


def test_the_invoices_come_25_to_a_page(ann, maple):
    numbers = [issued(client=maple).number for _ in range(26)]

    first = ann.get(page("portal:invoices"))
    second = ann.get(page("portal:invoices"), {"page": 2})

    assert [i.number for i in first.context["page"]] == numbers[::-1][:25]
    assert [i.number for i in second.context["page"]] == numbers[:1]
    assert "Page 1 of 2" in first.text


def test_the_credit_notes_are_the_clients_issued_ones(ann, maple, birch, documents):
    unissued = create_credit_note(
        invoice=documents["MAPLE"]["invoice"], acting_user=None, kind="amount", amount="5.00"
    )

    text = ann.get(page("portal:credit_notes")).text

    mine = documents["MAPLE"]["credit_note"]
    assert mine.number in text and "113.00 CAD" in text and "Scratched door" in text
    assert page("portal:credit_note", mine.number) in text
    assert documents["BIRCH"]["credit_note"].number not in text and "Damaged" not in text
    assert unissued.number is None and "5.00 CAD" not in text


def test_the_quotes_are_the_clients_sent_ones_in_every_state(ann, maple, birch, documents):
    waiting = documents["MAPLE"]["quote"]
    withdrawn = quote_services.withdraw_quote(quote=sent_quote(client=maple), acting_user=None)
    unsent = quote_services.create_quote(client=maple, acting_user=None, lines=[line()])

    text = ann.get(page("portal:quotes")).text

    assert waiting.number in text and "Awaiting your answer" in text
    assert withdrawn.number in text and 'status-withdrawn">Withdrawn' in text
    assert unsent.status == QuoteStatus.DRAFT and "Draft" not in text
    assert documents["BIRCH"]["quote"].number not in text


def test_the_payments_say_which_wait_for_confirmation(ann, maple, birch, invoice):
    pay(invoice, "243.00")
    pay(invoice, "100.00", confirmed=False)
    pay(issued(client=birch), "50.00")

    response = ann.get(page("portal:payments"))

    text = response.text
    assert [(p.amount, p.status) for p in response.context["page"]] == [
        (Decimal("100.00"), PaymentStatus.PENDING),
        (Decimal("243.00"), PaymentStatus.CONFIRMED),
    ]
    assert "Waiting for confirmation" in text and "Received" in text
    assert "50.00 CAD" not in text
    assert "Available credit" in text and "1,000.00 CAD" in text  # still due: pending counts not


def test_the_payments_come_25_to_a_page(ann, invoice):
    for _ in range(26):
        pay(invoice, "1.00", confirmed=False)

    first = ann.get(page("portal:payments"))

    assert len(first.context["page"].object_list) == 25
    assert len(ann.get(page("portal:payments"), {"page": 2}).context["page"].object_list) == 1


# --- A document's page and PDF ---------------------------------------------------------------
def test_the_invoice_page_is_its_links_page_in_the_portal(ann, invoice):
    response = ann.get(page("portal:invoice", invoice.number))

    assert response.status_code == 200
    text = response.text
    assert invoice.number in text and "Kitchen cabinets" in text and "1,243.00" in text
    assert "Pay by e-transfer to pay@northwind.example.com." in text  # how to pay
    assert "I've paid" in text and 'name="amount"' in text
    assert f'href="{page("portal:invoice_pdf", invoice.number)}"' in text
    assert 'class="portal-header' in text  # the portal's layout, with its menu
    assert 'aria-current="page" href="/portal/invoices/"' in text


def test_the_credit_note_and_quote_pages_are_their_links_pages(ann, documents):
    note, quote = documents["MAPLE"]["credit_note"], documents["MAPLE"]["quote"]

    note_page = ann.get(page("portal:credit_note", note.number)).text
    quote_page = ann.get(page("portal:quote", quote.number)).text

    assert note.number in note_page and "Credit on invoice" in note_page
    assert quote.number in quote_page and 'name="answer" value="accept"' in quote_page


@pytest.mark.parametrize("kind", DOCUMENT_PAGES)
def test_each_pdf_is_the_documents(ann, documents, kind):
    document = documents["MAPLE"][kind]

    response = ann.get(page(DOCUMENT_PAGES[kind][1], document.number))

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert document.number in pdf_text(response.content)
    assert response["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("kind", DOCUMENT_PAGES)
def test_another_clients_number_a_draft_or_none_answers_not_found(ann, maple, documents, kind):
    numbers = [documents["BIRCH"][kind].number, "INV-9999", "Q-0000", "x/y"]

    for name in DOCUMENT_PAGES[kind]:
        for number in numbers:
            for method in ("get", "post", "head"):
                response = getattr(ann, method)(page(name, number))
                assert response.status_code == 404, (name, number, method)
                if method != "head":
                    assert without_csrf(response.content) == nothing(ann), (name, number)
        # The client's own is there: the refusals above can fail.
        assert ann.get(page(name, documents["MAPLE"][kind].number)).status_code == 200


def test_a_draft_invoice_is_never_shown(ann, maple):
    unissued = draft(client=maple)

    assert without_csrf(ann.get(f"/portal/invoices/{unissued.pk}/").content) == nothing(ann)
    assert without_csrf(ann.get("/portal/invoices/None/").content) == nothing(ann)


def test_a_document_without_a_session_answers_not_found(client, invoice):
    response = client.get(page("portal:invoice", invoice.number))

    assert response.status_code == 404 and without_csrf(response.content) == nothing(client)
    assert "Sign in to the client portal" in response.text


# --- "I've paid" from the portal -------------------------------------------------------------
def report(browser, invoice, **fields):
    values = {
        "amount": "1243.00",
        "date": business_today().isoformat(),
        "method": "e_transfer",
        "reference": "TX-4471",
        **fields,
    }
    return browser.post(page("portal:invoice", invoice.number), values)


def test_a_report_makes_a_pending_payment_naming_the_address_signed_in(ann, invoice):
    response = report(ann, invoice)

    assert response.status_code == 303
    assert response["Location"] == page("portal:invoice", invoice.number) + "?reported=1#payment"
    [payment] = Payment.objects.all()
    assert payment.status == PaymentStatus.PENDING and payment.invoice == invoice
    assert (payment.amount, payment.method, payment.reference) == (
        Decimal("1243.00"),
        PaymentMethod.E_TRANSFER,
        "TX-4471",
    )
    assert f"Reported by {ANN} through the client portal" in payment.note
    assert "203.0.113.7" in payment.note
    event = AuditRecord.objects.get(object_repr="payment reported through the client portal")
    assert event.after["email"] == ANN and event.after["invoice"] == invoice.number
    invoice.refresh_from_db()
    assert invoice.balance_due == Decimal("1243.00")  # nothing counts before it is confirmed
    thanked = ann.get(response["Location"]).text
    assert "your payment report was received" in thanked and "TX-4471" in thanked
    listed = ann.get(page("portal:payments")).text
    assert "Waiting for confirmation" in listed and "TX-4471" in listed


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": ""}, "Amount"),
        ({"amount": "twelve"}, "Amount"),
        ({"amount": "0"}, "Amount"),
        ({"amount": "124300.00"}, "Amount paid: 124,300.00 CAD is far more than"),
        ({"date": ""}, "Date paid"),
        ({"date": "2026-02-30"}, "Date paid"),
        ({"date": "3000-01-01"}, "Date paid: "),
        ({"method": ""}, "How you paid: choose one of the list."),
        ({"method": "client_credit"}, "How you paid: choose one of the list."),
        ({"reference": "x" * 201}, "Reference: at most 200 characters."),
    ],
)
def test_a_bad_report_is_refused_naming_the_field(ann, invoice, fields, message):
    response = report(ann, invoice, **fields)

    assert response.status_code == 200
    field = next(iter(fields))
    assert any(message in str(error) for error in response.context["form"].errors[field])
    assert message in response.text.replace("&#x27;", "'")
    assert not Payment.objects.exists()


def test_a_report_on_a_paid_invoice_is_refused(ann, invoice):
    pay(invoice, "1243.00")

    response = report(ann, invoice, amount="10.00")

    assert response.status_code == 200
    assert "Your payment was not recorded." in response.text
    assert Payment.objects.filter(status=PaymentStatus.PENDING).count() == 0


def test_a_report_on_a_cancelled_invoice_is_refused(ann, invoice):
    cancel_invoice(invoice=invoice, acting_user=None, reason="Wrong client")

    response = report(ann, invoice)

    assert "Your payment was not recorded." in response.text
    assert not Payment.objects.exists()


def report_as(email, invoice):
    """The portal's operation, as a contact signed in as ``email`` would call it."""
    session, _key = sign_in_directly(email)
    return lambda: services.report_payment_in_portal(
        session=session,
        invoice=invoice,
        amount="10.00",
        date=business_today(),
        method="e_transfer",
        reference="",
        ip_address=None,
        user_agent="",
    )


def test_the_portal_report_is_refused_once_the_address_is_off_file(maple, invoice):
    reporting = report_as(ANN, invoice)
    maple.email = "accounts@maple.example.com"
    maple.save()

    with pytest.raises(NotFound):
        reporting()
    assert not Payment.objects.exists()


def test_the_portal_report_is_refused_on_another_clients_invoice(maple, birch):
    with pytest.raises(NotFound):
        report_as(ANN, issued(client=birch))()


def test_the_portal_report_is_refused_once_signed_out(maple, invoice):
    from portal.models import PortalSession

    reporting = report_as(ANN, invoice)
    services.sign_out(session=PortalSession.objects.get())

    with pytest.raises(NotFound):
        reporting()


def test_the_business_is_told_of_a_portal_report(ann, invoice, smtp):
    report(ann, invoice)

    notice = Message.objects.get(kind=MessageKind.PAYMENT_REPORT)
    assert notice.to_addresses == "office@northwind.example.com"
    assert ANN in notice.body and invoice.number in notice.subject


# --- A quote's answer from the portal --------------------------------------------------------
def answer(browser, quote, **fields):
    url = page("portal:quote", quote.number)
    version = browser.get(url).context["version"]
    return browser.post(url, {"version": version, **fields})


def test_a_quote_is_accepted_from_the_portal_as_the_address_signed_in(ann, documents):
    quote = documents["MAPLE"]["quote"]

    response = answer(ann, quote, name="Ann Smith", agreed="on", answer="accept")

    assert response.status_code == 303
    assert response["Location"] == page("portal:quote", quote.number)
    recorded = QuoteAnswer.objects.get(quote=quote)
    assert (recorded.answer, recorded.channel, recorded.email, recorded.name) == (
        Answer.ACCEPTED,
        Channel.PORTAL,
        ANN,
        "Ann Smith",
    )
    assert len(recorded.pdf_sha256) == 64 and recorded.recorded_by is None
    assert recorded.ip_address == "203.0.113.7"
    shown = ann.get(page("portal:quote", quote.number)).text
    assert "Accepted by Ann Smith" in shown
    assert 'status-accepted">Accepted' in ann.get(page("portal:quotes")).text


def test_a_quote_is_declined_from_the_portal_with_a_reason(ann, documents):
    quote = documents["MAPLE"]["quote"]

    answer(ann, quote, name="Ann Smith", reason="Too dear", answer="decline")

    recorded = QuoteAnswer.objects.get(quote=quote)
    assert (recorded.answer, recorded.channel, recorded.reason) == (
        Answer.DECLINED,
        Channel.PORTAL,
        "Too dear",
    )


def test_the_business_is_told_of_a_portal_answer(ann, documents, smtp):
    quote = documents["MAPLE"]["quote"]

    answer(ann, quote, name="Ann Smith", agreed="on", answer="accept")

    told = Message.objects.get(kind=MessageKind.QUOTE_ANSWER)
    assert told.quote == quote and "Ann Smith accepted quote" in told.body
    assert f"Through the client portal, signed in as {ANN}." in told.body


def test_the_office_and_the_api_show_who_answered_in_the_portal(ann, documents, administrator):
    from django.test import Client as Browser

    quote = documents["MAPLE"]["quote"]
    answer(ann, quote, name="Ann Smith", agreed="on", answer="accept")
    office = Browser()
    office.force_login(administrator)

    shown = office.get(quote.get_absolute_url()).text
    assert f"The client, signed in to the client portal as {ANN}" in shown
    api = office.get(f"/api/v1/quotes/{quote.number}/")
    assert api.status_code == 200
    assert api.json()["answer"]["email"] == ANN
    assert api.json()["answer"]["channel"] == "portal"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": "Ann Smith", "answer": "accept"}, "agreed", "I accept these terms: tick"),
        ({"name": "", "agreed": "on", "answer": "accept"}, "name", "Name: type the name"),
        ({"name": "", "answer": "decline"}, "name", "Name: type the name"),
    ],
)
def test_a_bad_answer_is_refused_naming_the_field(ann, documents, fields, field, message):
    quote = documents["MAPLE"]["quote"]

    response = answer(ann, quote, **fields)

    assert response.status_code == 200
    assert any(message in str(error) for error in response.context["form"].errors[field])
    assert not QuoteAnswer.objects.exists()


def test_a_quote_answered_once_is_not_answered_again(ann, documents):
    quote = documents["MAPLE"]["quote"]
    answer(ann, quote, name="Ann Smith", reason="No", answer="decline")

    response = ann.post(
        page("portal:quote", quote.number),
        {"version": "x", "name": "Ann Smith", "agreed": "on", "answer": "accept"},
    )

    assert "Your answer was not recorded." in response.text
    assert QuoteAnswer.objects.get(quote=quote).answer == Answer.DECLINED


def test_a_portal_answer_is_refused_once_the_address_is_off_file(maple, documents):
    from quotes import document

    quote = documents["MAPLE"]["quote"]
    maple.email = "accounts@maple.example.com"
    maple.save()
    key = document.version_key(document.quote_data(document.load_quote(pk=quote.pk)))

    with pytest.raises(NotFound):
        quote_services.decline_in_portal(
            quote=quote,
            email=ANN,
            shown_key=key,
            name="Ann Smith",
            reason="",
            ip_address=None,
            user_agent="",
        )
    assert not QuoteAnswer.objects.exists()


def test_a_portal_answer_without_the_address_is_refused_by_the_database(documents):
    from django.db import IntegrityError, transaction

    quote = documents["MAPLE"]["quote"]
    with pytest.raises(IntegrityError), transaction.atomic():
        QuoteAnswer.objects.create(
            quote=quote,
            answer=Answer.DECLINED,
            channel=Channel.PORTAL,
            name="Ann",
            answered_at=quote.created_at,
        )
