"""The links of invoices and credit notes through the API: listed with their views,
revoked, and the invoice's ``viewed_at`` (SPEC: Client portal and document links)."""

import pytest

from billing import services as billing
from links.models import LinkKind
from links.selectors import open_link
from links.services import issue_link, record_view, revoke_link
from tests.api import refused
from tests.factories import ClientFactory, issued

pytestmark = pytest.mark.django_db

ANN = "ann@maple.example.com"


@pytest.fixture
def maple(business):
    return ClientFactory(code="MAPLE", email=ANN)


@pytest.fixture
def invoice(maple):
    return issued(client=maple)


@pytest.fixture
def note(invoice):
    draft = billing.create_credit_note(invoice=invoice, acting_user=None)
    return billing.issue_credit_note(credit_note=draft, acting_user=None)


def link_to(document, recipient=ANN):
    return issue_link(document=document, recipient=recipient, acting_user=None)


def viewed(link):
    record_view(link=link, ip_address="203.0.113.5", user_agent="Mail client")
    link.refresh_from_db()
    return link


URLS = {"invoice": "/api/v1/invoices/", "credit_note": "/api/v1/credit-notes/"}


@pytest.fixture(params=["invoice", "credit_note"])
def document(request, invoice, note):
    """Each kind of document, with the URL of its resource (by its number)."""
    chosen = invoice if request.param == "invoice" else note
    return chosen, f"{URLS[request.param]}{chosen.number}/"


def test_the_links_are_listed_newest_first_with_their_views(api, document):
    doc, url = document
    first = viewed(link_to(doc)[0])
    second, _token = link_to(doc, "bob@maple.example.com")

    response = api.get(f"{url}links/")

    assert response.status_code == 200, response.json()
    listed = response.json()
    assert [row["id"] for row in listed] == [second.pk, first.pk]
    assert listed[1]["recipient"] == ANN and listed[1]["view_count"] == 1
    assert listed[1]["last_viewed_at"] and listed[1]["live"] is True
    assert listed[0]["last_viewed_at"] is None
    assert not any("token" in key for key in listed[0])


def test_a_link_is_revoked_with_a_reason_and_opens_nothing_after(api, document, bookkeeper):
    doc, url = document
    link, token = link_to(doc)

    response = api.post(
        f"{url}links/{link.pk}/revoke/", {"reason": "Sent to the wrong person"}, format="json"
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["live"] is False and body["revoked_at"]
    assert body["revoke_reason"] == "Sent to the wrong person"
    link.refresh_from_db()
    assert link.revoked_by == bookkeeper
    assert open_link(token, kind=link.kind) is None

    again = api.post(f"{url}links/{link.pk}/revoke/", {}, format="json")
    assert "already revoked" in refused(again, 409, "__all__")


def test_a_reason_too_long_is_refused_by_field(api, document):
    doc, url = document
    link, token = link_to(doc)

    response = api.post(f"{url}links/{link.pk}/revoke/", {"reason": "x" * 201}, format="json")

    assert refused(response, 400, "reason") == "Reason: at most 200 characters."
    assert open_link(token, kind=link.kind) == link


@pytest.mark.parametrize("link_id", ["abc", "0", "99999999", "1" * 30, "null,null"])
def test_a_bad_link_id_is_not_found_by_name(api, document, link_id):
    doc, url = document
    link_to(doc)

    response = api.post(f"{url}links/{link_id}/revoke/", {}, format="json")

    assert response.status_code == 404
    assert response.json()["detail"] == f"There is no link “{link_id[:40]}”."


def test_a_link_of_another_document_is_not_found_through_this_one(api, document, maple):
    doc, url = document
    other = issued(client=maple)
    link, token = link_to(other)

    response = api.post(f"{url}links/{link.pk}/revoke/", {}, format="json")

    assert response.status_code == 404
    assert open_link(token, kind=LinkKind.INVOICE) == link


def test_an_unknown_document_is_not_found(api):
    for url in ("/api/v1/invoices/INV-9999/links/", "/api/v1/credit-notes/CN-9999/links/"):
        response = api.get(url)
        assert response.status_code == 404 and "There is no" in response.json()["detail"]


def test_a_credit_note_is_also_found_by_its_id(api, note):
    link, _token = link_to(note)

    listed = api.get(f"/api/v1/credit-notes/{note.pk}/links/").json()
    assert [row["id"] for row in listed] == [link.pk]
    revoked = api.post(f"/api/v1/credit-notes/{note.pk}/links/{link.pk}/revoke/", format="json")
    assert revoked.status_code == 200


def test_a_viewer_reads_the_links_but_does_not_revoke(viewer_api, document):
    doc, url = document
    link, token = link_to(doc)

    assert viewer_api.get(f"{url}links/").status_code == 200
    assert viewer_api.post(f"{url}links/{link.pk}/revoke/", format="json").status_code == 403
    assert open_link(token, kind=link.kind) == link


def test_the_invoice_says_when_it_was_last_viewed(api, invoice, maple, bookkeeper):
    unseen = issued(client=maple)
    first = viewed(link_to(invoice)[0])
    latest = viewed(link_to(invoice, "bob@maple.example.com")[0])
    revoke_link(link=first, acting_user=bookkeeper)  # its views still count

    one = api.get(f"/api/v1/invoices/{invoice.number}/").json()
    listed = {
        row["number"]: row["viewed_at"] for row in api.get("/api/v1/invoices/").json()["results"]
    }

    assert (
        one["viewed_at"]
        == api.get(f"/api/v1/invoices/{invoice.number}/links/").json()[0]["last_viewed_at"]
    )
    assert latest.last_viewed_at >= first.last_viewed_at
    assert listed == {invoice.number: one["viewed_at"], unseen.number: None}


def test_the_schema_describes_the_links_of_invoices_and_credit_notes(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()

    for path in (
        "/api/v1/invoices/{ref}/links/",
        "/api/v1/invoices/{ref}/links/{link_id}/revoke/",
        "/api/v1/credit-notes/{id}/links/",
        "/api/v1/credit-notes/{id}/links/{link_id}/revoke/",
    ):
        assert path in schema["paths"], path
    viewed_at = schema["components"]["schemas"]["Invoice"]["properties"]["viewed_at"]
    assert viewed_at["readOnly"] is True and viewed_at["nullable"] is True
