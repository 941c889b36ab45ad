"""The business's side of document links (SPEC: Client portal and document links): the links
table on the invoice, credit note and client pages, revoking a link (links/views.py), "send a
new link" to the same recipient, "viewed" on the pages and in the invoice list, and the back
office's document column."""

import datetime
import re

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone

from audit.models import AuditRecord
from billing import services as billing
from links.documents import Statement
from links.models import DocumentLink, LinkKind
from links.selectors import open_link
from links.services import issue_link, record_view, revoke_link
from links.tests.helpers import sent_quote
from settings_app.zone import business_zone
from tests.factories import ClientFactory, draft, issued

pytestmark = pytest.mark.django_db

ANN = "ann@maple.example.com"
ROW = re.compile(r'<tr class="document-link[^"]*" data-link="(\d+)">(.*?)</tr>', re.S)


@pytest.fixture
def maple(business):
    return ClientFactory(code="MAPLE", name="Maple Leaf Property", email=ANN)


@pytest.fixture
def invoice(maple):
    return issued(client=maple)


@pytest.fixture
def note(invoice):
    draft = billing.create_credit_note(invoice=invoice, acting_user=None)
    return billing.issue_credit_note(credit_note=draft, acting_user=None)


@pytest.fixture
def office(client, bookkeeper):
    client.force_login(bookkeeper)
    return client


def local(moment):
    """``moment`` as the pages show it: in the business's time zone."""
    return timezone.localtime(moment, business_zone())


def link_to(document, recipient=ANN):
    return issue_link(document=document, recipient=recipient, acting_user=None)


def viewed(link):
    record_view(link=link, ip_address="203.0.113.5", user_agent="Mail client")
    link.refresh_from_db()
    return link


def rows(html: str) -> dict[int, str]:
    """The links table's rows by link id, their text without tags."""
    return {
        int(pk): re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)) for pk, row in ROW.findall(html)
    }


def row_html(html: str, link) -> str:
    return next(row for pk, row in ROW.findall(html) if int(pk) == link.pk)


def user_with(django_user_model, *codenames):
    user = django_user_model.objects.create_user(username="clerk", password="pw-for-tests-1")
    for name in codenames:
        app_label, codename = name.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return django_user_model.objects.get(pk=user.pk)


# --- the links table --------------------------------------------------------------------------
def test_the_invoice_page_lists_every_link_with_its_state(office, invoice, bookkeeper):
    live = viewed(link_to(invoice)[0])
    old, _token = link_to(invoice, "bob@maple.example.com")
    replacing, _token = link_to(invoice, "bob@maple.example.com")  # replaces "old"
    gone, _token = link_to(invoice, "carl@maple.example.com")
    revoke_link(link=gone, acting_user=bookkeeper, reason="Left the company")
    stale, _token = link_to(invoice, "dana@maple.example.com")
    long_ago = timezone.now() - datetime.timedelta(days=200)
    DocumentLink.objects.filter(pk=stale.pk).update(
        created_at=long_ago, expires_at=long_ago + datetime.timedelta(days=90)
    )

    html = office.get(invoice.get_absolute_url()).text
    shown = rows(html)

    assert set(shown) == {live.pk, old.pk, replacing.pk, gone.pk, stale.pk}
    assert ANN in shown[live.pk] and " live " in shown[live.pk] and " 1 " in shown[live.pk]
    assert formats.date_format(local(live.last_viewed_at)) in shown[live.pk]
    assert " replaced " in shown[old.pk] and " live " in shown[replacing.pk]
    assert " revoked " in shown[gone.pk] and "Left the company" in row_html(html, gone)
    assert " expired " in shown[stale.pk] and "not yet" in shown[stale.pk]
    # Revoke only what still opens the invoice; a new link for all but the replaced one.
    for link in (live, replacing):
        assert reverse("links:revoke", args=[link.pk]) in row_html(html, link)
    for link in (old, gone, stale):
        assert reverse("links:revoke", args=[link.pk]) not in row_html(html, link)
    assert "Send a new link" not in row_html(html, old)
    assert "Send a new link" in row_html(html, stale)


def test_an_invoice_never_sent_with_a_link_says_so(office, invoice):
    html = office.get(invoice.get_absolute_url()).text

    assert "No link yet" in html
    assert "Viewed" not in html and "Not viewed yet" not in html


def test_a_draft_has_no_links_table(office, maple):
    html = office.get(draft(client=maple).get_absolute_url()).text
    assert "document-links" not in html


def test_the_credit_note_page_lists_its_links_and_when_it_was_viewed(office, note):
    link = viewed(link_to(note)[0])

    html = office.get(note.get_absolute_url()).text

    assert list(rows(html)) == [link.pk]
    when = formats.date_format(local(link.last_viewed_at), "DATETIME_FORMAT")
    assert f"Viewed {when}" in html
    assert reverse("links:revoke", args=[link.pk]) in html
    assert f"{reverse('credit_notes:send', args=[note.pk])}?to=ann%40maple.example.com" in html


def test_the_client_page_lists_its_statement_links_with_their_dates(office, maple):
    march = Statement(maple, datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
    link, _token = link_to(march)
    other_client = ClientFactory(code="OTHER")
    link_to(Statement(other_client, None, None), "someone@other.example.com")

    html = office.get(maple.get_absolute_url()).text

    assert list(rows(html)) == [link.pk]
    assert "Statement links" in html
    assert formats.date_format(datetime.date(2026, 3, 1)) in rows(html)[link.pk]
    resend = (
        f"{reverse('reports:statement')}?client=MAPLE&amp;start=2026-03-01&amp;end=2026-03-31"
        "&amp;to=ann%40maple.example.com"
    )
    assert resend in html


def test_a_client_never_sent_a_statement_link_has_no_such_table(office, maple):
    assert "Statement links" not in office.get(maple.get_absolute_url()).text


def test_a_cancelled_invoice_offers_no_new_link(office, invoice):
    link, _token = link_to(invoice)
    billing.cancel_invoice(invoice=invoice, acting_user=None, reason="Wrong client")

    html = office.get(invoice.get_absolute_url()).text

    assert link.pk in rows(html)
    assert "Send a new link" not in html


# --- revoking ---------------------------------------------------------------------------------
def test_a_link_is_revoked_from_the_invoice_page(office, invoice, bookkeeper):
    link, token = link_to(invoice)

    response = office.post(
        reverse("links:revoke", args=[link.pk]), {"reason": "  Sent to the wrong person "}
    )

    assert response.status_code == 302 and response.url == invoice.get_absolute_url()
    link.refresh_from_db()
    assert link.revoked_by == bookkeeper and link.revoke_reason == "Sent to the wrong person"
    assert open_link(token, kind=LinkKind.INVOICE) is None
    record = AuditRecord.objects.get(object_type="links.documentlink", action="changed")
    assert (
        record.actor == bookkeeper and record.after["revoke_reason"] == "Sent to the wrong person"
    )
    page = office.get(response.url).text
    assert "is revoked: it no longer opens the document" in page
    assert " revoked " in rows(page)[link.pk]


def test_revoking_goes_back_to_the_page_of_each_kind_of_document(office, note, maple):
    quote = sent_quote(client=maple)
    statement = Statement(maple, datetime.date(2026, 1, 1), datetime.date(2026, 1, 31))
    for document, page in [
        (note, note.get_absolute_url()),
        (quote, quote.get_absolute_url()),
        (statement, maple.get_absolute_url()),
    ]:
        link, token = link_to(document)
        response = office.post(reverse("links:revoke", args=[link.pk]))
        assert response.status_code == 302 and response.url == page
        assert open_link(token, kind=link.kind) is None


def test_a_link_revoked_already_is_not_revoked_again(office, invoice, bookkeeper):
    link, _token = link_to(invoice)
    revoke_link(link=link, acting_user=bookkeeper, reason="First")

    response = office.post(reverse("links:revoke", args=[link.pk]), {"reason": "Second"})

    assert response.status_code == 302 and response.url == invoice.get_absolute_url()
    page = office.get(response.url).text
    assert f"The link to {ANN} was already revoked on" in page
    link.refresh_from_db()
    assert link.revoke_reason == "First"


def test_a_reason_too_long_is_refused_and_the_link_stays(office, invoice):
    link, token = link_to(invoice)

    response = office.post(reverse("links:revoke", args=[link.pk]), {"reason": "x" * 201})

    assert "Reason: at most 200 characters." in office.get(response.url).text
    assert open_link(token, kind=LinkKind.INVOICE) == link


@pytest.mark.parametrize("pk", [987654, 2**63, 2**70])
def test_an_unknown_link_is_not_found(office, pk):
    assert office.post(f"/links/{pk}/revoke/").status_code == 404


def test_revoking_is_a_post(office, invoice):
    link, _token = link_to(invoice)
    assert office.get(reverse("links:revoke", args=[link.pk])).status_code == 405


def test_a_viewer_sees_the_links_but_can_neither_revoke_nor_send(client, viewer, invoice):
    link, token = link_to(invoice)
    client.force_login(viewer)

    html = client.get(invoice.get_absolute_url()).text

    assert ANN in rows(html)[link.pk]
    assert "links:revoke" not in html and reverse("links:revoke", args=[link.pk]) not in html
    assert "Send a new link" not in html
    assert client.post(reverse("links:revoke", args=[link.pk])).status_code == 403
    assert open_link(token, kind=LinkKind.INVOICE) == link


def test_sending_without_the_right_to_change_links_does_not_revoke(
    client, django_user_model, invoice
):
    clerk = user_with(django_user_model, "billing.view_invoice", "outbox.send_message")
    link, token = link_to(invoice)
    client.force_login(clerk)

    html = client.get(invoice.get_absolute_url()).text

    assert reverse("links:revoke", args=[link.pk]) not in html
    assert "Send a new link" in html
    assert client.post(reverse("links:revoke", args=[link.pk])).status_code == 403
    assert open_link(token, kind=LinkKind.INVOICE) == link


def test_changing_links_without_the_right_to_send_does_not_revoke(
    client, django_user_model, invoice
):
    clerk = user_with(django_user_model, "billing.view_invoice", "links.change_documentlink")
    link, _token = link_to(invoice)
    client.force_login(clerk)

    assert (
        reverse("links:revoke", args=[link.pk]) not in client.get(invoice.get_absolute_url()).text
    )
    assert client.post(reverse("links:revoke", args=[link.pk])).status_code == 403


# --- send a new link ------------------------------------------------------------------------
def test_send_a_new_link_opens_the_send_page_for_that_recipient(office, invoice, note, maple):
    quote = sent_quote(client=maple)
    for document in (invoice, note, quote):
        link, _token = link_to(document, "bob@maple.example.com")
        page = office.get(document.get_absolute_url()).text
        resend = re.search(r'href="([^"]+)"[^>]*>Send a new link<', row_html(page, link))
        assert resend, document
        form = office.get(resend.group(1).replace("&amp;", "&")).context["form"]
        assert form.initial["to"] == "bob@maple.example.com", document
        assert form.initial["subject"]  # the other defaults stay


def test_send_a_new_link_of_a_statement_prefills_the_statement_page(office, maple):
    link, _token = link_to(
        Statement(maple, datetime.date(2026, 3, 1), datetime.date(2026, 3, 31)),
        "bob@maple.example.com",
    )
    page = office.get(maple.get_absolute_url()).text
    resend = re.search(r'href="([^"]+)"[^>]*>Send a new link<', row_html(page, link)).group(1)

    html = office.get(resend.replace("&amp;", "&")).text

    assert 'name="to" value="bob@maple.example.com"' in html
    assert 'name="start" value="2026-03-01"' in html and 'name="end" value="2026-03-31"' in html


def test_the_send_page_without_a_recipient_keeps_the_clients_address(office, invoice):
    form = office.get(reverse("invoices:send", args=[invoice.pk])).context["form"]
    assert form.initial["to"] == ANN


# --- viewed -----------------------------------------------------------------------------------
def test_the_invoice_page_says_when_it_was_last_viewed(office, invoice):
    first, _token = link_to(invoice)
    second, _token = link_to(invoice, "bob@maple.example.com")

    assert "Not viewed yet" in office.get(invoice.get_absolute_url()).text

    viewed(first)
    latest = viewed(second).last_viewed_at
    when = formats.date_format(local(latest), "DATETIME_FORMAT")
    html = office.get(invoice.get_absolute_url()).text
    assert f"Viewed {when}" in html and "Not viewed yet" not in html


def test_a_view_through_a_link_revoked_since_still_counts(office, invoice, bookkeeper):
    link = viewed(link_to(invoice)[0])
    revoke_link(link=link, acting_user=bookkeeper)

    assert "Viewed " in office.get(invoice.get_absolute_url()).text


def _list(office):
    with CaptureQueriesContext(connection) as queries:
        response = office.get(reverse("invoices:list"))
    assert response.status_code == 200
    return response, len(queries)


def test_the_invoice_list_marks_the_viewed_invoices(office, invoice, maple):
    unseen = issued(client=maple)
    link_to(unseen)
    link = viewed(link_to(invoice)[0])

    response, _count = _list(office)

    shown = {row.pk: row.viewed_at for row in response.context["page"]}
    assert shown == {invoice.pk: link.last_viewed_at, unseen.pk: None}
    when = formats.date_format(local(link.last_viewed_at), "DATETIME_FORMAT")
    assert response.text.count('class="document-viewed-mark') == 1
    assert f'title="Viewed {when}"' in response.text


def test_the_viewed_marks_cost_no_query_per_row(office, maple):
    def add_viewed_invoices(count):
        for _ in range(count):
            viewed(link_to(issued(client=maple))[0])

    add_viewed_invoices(2)
    _response, few = _list(office)
    add_viewed_invoices(20)
    response, many = _list(office)

    assert response.text.count('class="document-viewed-mark') == 22
    assert many == few


# --- back office ------------------------------------------------------------------------------
def test_the_back_office_names_each_links_document(client, administrator, invoice, note, maple):
    link_to(invoice)
    link_to(note)
    link_to(Statement(maple, datetime.date(2026, 3, 1), datetime.date(2026, 3, 31)))
    client.force_login(administrator)

    html = client.get(reverse("admin:links_documentlink_changelist")).text

    assert f'<td class="field-document">{invoice.number}</td>' in html
    assert f'<td class="field-document">{note.number}</td>' in html
    march, end = (
        formats.date_format(datetime.date(2026, 3, 1)),
        formats.date_format(datetime.date(2026, 3, 31)),
    )
    assert f"Statement {march} – {end}" in html
    found = client.get(reverse("admin:links_documentlink_changelist"), {"q": invoice.number})
    assert len(found.context["cl"].result_list) == 1
