"""Nothing of another client is ever reachable (SPEC: Client portal and document links).

Every portal address is taken from the URL resolver, not from a list written here: a page
added later is tried too, and one whose arguments this test does not know fails it until it
is taught. Each is tried with client A's portal session, and with client B's document links
opened in the same browser (a link is never a portal session), against B's documents: "not
found", the same page as for every other (its forms' CSRF token aside). Every office
address with a portal session goes to the office's sign-in page."""

from __future__ import annotations

import pytest
from django.test import Client as Browser
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from billing.services import create_credit_note, issue_credit_note
from links.documents import Statement
from tests.factories import ClientFactory, draft, issued, line, pay

from .conftest import ANN, link_to
from .signin_helpers import not_found_for, signed_in, without_csrf

pytestmark = pytest.mark.django_db

# The namespaces a client reaches without an office login.
PORTAL = "portal"
LINK_NAMESPACES = ("quote_link", "invoice_link", "credit_note_link", "statement_link")
BEN = "ben@birch.example.com"


def patterns_of(resolver: URLResolver, prefix: str = "", namespace: str | None = None):
    """Every URL pattern under ``resolver``: (full route, namespace, pattern)."""
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from patterns_of(entry, route, entry.namespace or namespace)
        else:
            assert isinstance(entry, URLPattern)
            yield route, namespace, entry


def routes(namespaces) -> list[tuple[str, URLPattern]]:
    found = [
        (route, pattern)
        for route, namespace, pattern in patterns_of(get_resolver())
        if namespace in namespaces
    ]
    assert found
    return found


def fill(route: str, values: dict[str, str]) -> str:
    """``route`` ("portal/invoices/<str:number>/") with its arguments from ``values``."""
    path = "/" + route
    for name, value in values.items():
        for converter in ("str", "path", "int", "slug"):
            path = path.replace(f"<{converter}:{name}>", value)
        path = path.replace(f"<{name}>", value)
    assert "<" not in path, f"teach the isolation test the arguments of {route}"
    return path


def kind_of(route: str) -> str:
    """Which kind of document a portal route names with its <number>."""
    for prefix, kind in (
        ("portal/invoices/", "invoice"),
        ("portal/credit-notes/", "credit_note"),
        ("portal/quotes/", "quote"),
    ):
        if route.startswith(prefix):
            return kind
    raise AssertionError(f"teach the isolation test what {route} names")


@pytest.fixture
def two_clients(maple, smtp):
    """Client A (Maple, Ann) and client B (Birch, Ben), each with an issued invoice (paid in
    part), a draft, a credit note, a sent quote and links to them; both signed in."""
    from links.tests.helpers import sent_quote

    birch = ClientFactory(code="BIRCH", name="Birch Builders", email=BEN)
    documents = {}
    for client in (maple, birch):
        invoice = issued(client=client, lines=[line("2", "100.00")])
        pay(invoice, "50.00")
        note = create_credit_note(
            invoice=invoice, acting_user=None, kind="amount", amount="11.30", reason="Damaged"
        )
        documents[client.code] = {
            "invoice": invoice,
            "draft": draft(client=client, lines=[line()]),
            "credit_note": issue_credit_note(credit_note=note, acting_user=None),
            "quote": sent_quote(client=client),
        }
    return maple, birch, documents


def links_of(client, documents, recipient):
    """Tokens of links to each of ``documents`` and to the client's statement."""
    tokens = {kind: link_to(documents[kind], recipient)[1] for kind in ("invoice", "credit_note")}
    tokens["quote"] = link_to(documents["quote"], recipient)[1]
    tokens["statement"] = link_to(Statement(client, None, None), recipient)[1]
    return tokens


def holding_links_of(client, documents) -> Browser:
    """A browser that opened ``client``'s document links (each answered), but holds no
    portal session."""
    holder = Browser()
    for kind, token in links_of(client, documents, BEN).items():
        page = {"invoice": "i", "credit_note": "c", "quote": "q", "statement": "s"}[kind]
        assert holder.get(f"/{page}/{token}/").status_code == 200
    return holder


def test_no_portal_address_shows_another_clients_document(two_clients):
    maple, birch, documents = two_clients
    ann = Browser()
    signed_in(ann, ANN)
    holder = holding_links_of(birch, documents["BIRCH"])
    nothing = {ann: not_found_for(ann), holder: not_found_for(holder)}
    birch_tokens = links_of(birch, documents["BIRCH"], "ben2@birch.example.com")
    tried = 0

    for route, pattern in routes({PORTAL}):
        names = set(pattern.pattern.converters)
        if not names:
            continue
        if names == {"number"}:
            kind = kind_of(route)
            theirs = fill(route, {"number": documents["BIRCH"][kind].number})
            drafts = fill(route, {"number": "DRAFT"}) if kind != "invoice" else None
            ours = fill(route, {"number": documents["MAPLE"][kind].number})
            # The test can fail: A's own document is there for A.
            assert ann.get(ours).status_code == 200, ours
            for browser in (ann, holder):
                for method in ("get", "post"):
                    response = getattr(browser, method)(theirs)
                    assert response.status_code == 404, (theirs, method)
                    assert without_csrf(response.content) == nothing[browser], theirs
            if drafts:
                assert without_csrf(ann.get(drafts).content) == nothing[ann]
            tried += 1
        elif names == {"token"}:
            # A document link is not a sign-in link, whoever holds it.
            for token in birch_tokens.values():
                for browser in (ann, holder):
                    response = browser.post(fill(route, {"token": token}))
                    assert response.status_code == 404, route
            tried += 1
        elif names == {"rest"}:
            assert ann.get(fill(route, {"rest": "x/y"})).status_code == 404
        else:
            pytest.fail(f"teach the isolation test the arguments {names} of {route}")
    assert tried >= 4


def test_no_portal_page_lists_another_clients_things(two_clients):
    maple, birch, documents = two_clients
    ann = Browser()
    signed_in(ann, ANN)
    holder = holding_links_of(birch, documents["BIRCH"])
    theirs = [birch.name] + [
        documents["BIRCH"][kind].number for kind in ("invoice", "credit_note", "quote")
    ]
    draft_number = f"#{documents['MAPLE']['draft'].pk}"
    pages = 0

    for route, pattern in routes({PORTAL}):
        if pattern.pattern.converters or pattern.name in (None, "brand_css"):
            continue
        path = "/" + route
        for query in ("", f"?client={birch.pk}", f"?currency={birch.default_currency}"):
            response = ann.get(path + query, follow=True)
            assert response.status_code in (200, 400, 405), path
            if not response["Content-Type"].startswith("text/"):
                continue  # a PDF: its text is read in the statement's own tests
            for mark in theirs:
                assert mark not in response.text, (path, mark)
            assert draft_number not in response.text
        # B's links opened in this browser give it no page of B's.
        response = holder.get(path, follow=True)
        assert response.wsgi_request.path == reverse("portal:sign_in") or (
            response.status_code == 405
        ), path
        for mark in theirs:
            assert mark not in response.text, (path, mark)
        pages += 1
    assert pages >= 6
    # A's own documents are there (the checks above can fail).
    listed = ann.get(reverse("portal:invoices")).text
    assert documents["MAPLE"]["invoice"].number in listed


def test_choosing_another_client_is_refused(two_clients):
    maple, birch, _documents = two_clients
    ann = Browser()
    signed_in(ann, ANN)
    response = ann.post(reverse("portal:choose"), {"client": birch.pk})
    assert response.status_code == 400
    assert birch.name not in ann.get(reverse("portal:home")).text


def test_every_office_address_with_a_portal_session_goes_to_the_sign_in_page(two_clients):
    ann = Browser()
    signed_in(ann, ANN)
    public = {
        "login",
        "password_reset",
        "password_reset_done",
        "password_reset_confirm",
        "password_reset_complete",
        "healthz",
    }
    checked = 0
    for route, namespace, pattern in patterns_of(get_resolver()):
        if namespace in (PORTAL, *LINK_NAMESPACES) or route.startswith(("static/", "media/")):
            continue
        if getattr(pattern.callback, "login_required", True) is False or pattern.name in public:
            continue
        if "(?" in route or "^" in route:
            continue  # the admin's regular expressions: its pages are tried below
        path = fill(route, dict.fromkeys(pattern.pattern.converters, "1"))
        response = ann.get(path)
        if route.startswith("api/"):
            assert response.status_code in (401, 403), path
        else:
            assert response.status_code == 302, path
            assert response["Location"].startswith(("/login/", "/admin/login/")), path
        checked += 1
    for path in ("/admin/", "/admin/billing/invoice/", "/admin/portal/portalsession/"):
        response = ann.get(path)
        assert response.status_code == 302 and "/login/" in response["Location"], path
    assert checked >= 40
