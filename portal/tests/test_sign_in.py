"""Signing in to the client portal (SPEC: Client portal and document links): a link e-mailed
to an address on file, single use, valid 15 minutes, taken only by the button on the page it
opens; the same answer for every address asked about; a session of its own, at most 7 days,
signed out here or everywhere; never an office login."""

import datetime
import re

import pytest
import time_machine
from django.core import signing
from django.test import Client as Browser
from django.urls import reverse

from accounts.models import SignInThrottle
from audit.models import AuditRecord
from billing.services.clients import update_client
from outbox.models import MASKED_LINK, Message, MessageKind, MessageStatus
from portal import access, services
from portal.models import PortalSession, SignInLink
from tests.factories import ClientFactory

from .conftest import ANN
from .signin_helpers import LINK_PATH, SIGN_IN, ask, last_link_to
from .signin_helpers import signed_in as signed_in_as

pytestmark = pytest.mark.django_db

HOME = reverse("portal:home")


def signed_in(browser, email=ANN):
    return signed_in_as(browser, email)


def sessions():
    return PortalSession.objects.order_by("pk")


@pytest.fixture
def mail(smtp):
    return smtp


def test_a_known_address_gets_a_link_and_the_answer_is_the_same_for_an_unknown_one(
    client, maple, mail
):
    known = ask(client, ANN)
    unknown = ask(client, "nobody@example.org")
    malformed_case = ask(client, "  ANN@Maple.Example.com ")

    assert known.redirect_chain == [(SIGN_IN + "?sent=1", 303)]
    assert known.content == unknown.content == malformed_case.content
    assert "If that address is on file with us, a sign-in link is on its way" in known.text
    messages = Message.objects.filter(kind=MessageKind.PORTAL_SIGN_IN)
    assert [m.to_addresses for m in messages] == [ANN, ANN]  # none to the unknown address
    message = messages.first()
    assert MASKED_LINK in message.body and "/portal/sign-in/" not in message.body
    assert "works once, within 15 minutes" in message.body
    # The newer request replaced the earlier link.
    first, second = SignInLink.objects.order_by("pk")
    assert first.revoked_at is not None and first.revoke_reason == services.NEWER_LINK
    assert second.revoked_at is None
    assert not SignInLink.objects.filter(email="nobody@example.org").exists()
    assert AuditRecord.objects.filter(
        object_repr="portal sign-in asked for an address not on file",
        object_id="nobody@example.org",
    ).exists()


def test_bad_addresses_are_refused_by_field(client, maple, mail):
    for typed in ["", "ann", "ann@", "a" * 250 + "@x.example.com", "<script>@x"]:
        response = client.post(SIGN_IN, {"email": typed})
        assert response.status_code == 200
        assert "E-mail:" in response.text, typed
        assert 'aria-invalid="true"' in response.text or "is-invalid" in response.text
    assert not SignInLink.objects.exists()


def test_the_link_page_does_not_use_the_link_the_button_does(client, maple, mail):
    ask(client, ANN)
    path = last_link_to(ANN)

    for _ in range(3):  # a mail scanner, the preview, the person
        page = client.get(path)
        assert page.status_code == 200
        assert "Press the button to sign in as ann@maple.example.com" in page.text
        head = client.head(path)
        assert head.status_code == 200
    assert SignInLink.objects.get().used_at is None
    assert not sessions().exists()

    pressed = client.post(path)
    assert pressed.status_code == 303 and pressed["Location"] == HOME
    session = sessions().get()
    assert session.email == ANN and session.client == maple
    assert session.expires_at - session.created_at == datetime.timedelta(days=7)
    cookie = pressed.cookies[access.COOKIE_NAME]
    assert cookie["httponly"] and cookie["path"] == "/portal/" and cookie["samesite"] == "Lax"
    assert 7 * 24 * 3600 - 5 <= int(cookie["max-age"]) <= 7 * 24 * 3600
    # The cookie holds the key signed; the database holds only its hash.
    key = signing.Signer(salt=access.SALT).unsign(cookie.value)
    assert key not in session.key_hash and len(session.key_hash) == 64
    home = client.get(HOME)
    assert home.status_code == 200 and maple.name in home.text
    assert AuditRecord.objects.filter(object_repr="signed in to the portal", object_id=ANN).exists()


def test_used_expired_and_revoked_links_are_refused_alike(client, maple, mail):
    ask(client, ANN)
    used = last_link_to(ANN)
    Browser().post(used)
    ask(client, ANN)
    revoked = last_link_to(ANN)
    ask(client, ANN)  # replaces "revoked"
    expired = last_link_to(ANN)
    unknown = "/portal/sign-in/" + "A" * 43 + "/"

    answers = []
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=16)):
        answers.append(Browser().get(expired))
        answers.append(Browser().post(expired))
    for path in (used, revoked, unknown, "/portal/sign-in/x/"):
        answers.append(Browser().get(path))
        answers.append(Browser().post(path))
    assert {a.status_code for a in answers} == {404}
    assert len({a.content for a in answers}) == 1
    assert "This sign-in link no longer works" in answers[0].text
    assert sessions().count() == 1  # the one "used" made
    # The expired one still works within its 15 minutes.
    assert Browser().post(expired).status_code == 303


def test_a_session_lasts_seven_days_at_most(client, maple, mail):
    signed_in(client)
    assert client.get(HOME).status_code == 200
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=7, minutes=1)
    with time_machine.travel(later):
        response = client.get(HOME)
    assert response.status_code == 302 and response["Location"] == SIGN_IN


def test_sign_out_and_sign_out_everywhere(maple, mail):
    phone, laptop, tablet = Browser(), Browser(), Browser()
    for browser in (phone, laptop, tablet):
        signed_in(browser)
        assert browser.get(HOME).status_code == 200
    ask(Browser(), ANN)
    unused = last_link_to(ANN)

    out = phone.post(reverse("portal:sign_out"), follow=True)
    assert "You are signed out." in out.text
    assert phone.get(HOME).status_code == 302
    assert laptop.get(HOME).status_code == 200
    assert AuditRecord.objects.filter(object_repr="signed out of the portal").count() == 1

    everywhere = laptop.post(reverse("portal:sign_out_everywhere"), follow=True)
    assert "signed out on every device" in everywhere.text
    assert laptop.get(HOME).status_code == 302
    assert tablet.get(HOME).status_code == 302
    assert not PortalSession.objects.live(now=datetime.datetime.now(datetime.UTC)).exists()
    assert Browser().post(unused).status_code == 404  # the link not yet used ended too
    assert all(session.ended_at is not None for session in sessions())


def test_sign_out_takes_a_post_only(client, maple, mail):
    signed_in(client)
    assert client.get(reverse("portal:sign_out")).status_code == 405
    assert client.get(HOME).status_code == 200


def test_an_address_on_file_for_several_clients_chooses_after_signing_in(client, maple, mail):
    other = ClientFactory(code="OAK", name="Oak Street Co-op", email=ANN)
    ClientFactory(code="ELM", name="Elm Holdings", email="someone@elm.example.com")

    ask(client, ANN)
    pressed = client.post(last_link_to(ANN))
    assert pressed["Location"] == reverse("portal:choose")
    assert sessions().get().client is None
    # Nothing of either client until one is chosen.
    assert client.get(HOME)["Location"] == reverse("portal:choose")
    choose = client.get(reverse("portal:choose"))
    assert "Maple Leaf Property" in choose.text and "Oak Street Co-op" in choose.text
    assert "Elm Holdings" not in choose.text

    elm = ClientFactory._meta.model.objects.get(code="ELM")
    for refused in (elm.pk, "x", "", 10**9):
        response = client.post(reverse("portal:choose"), {"client": refused})
        assert response.status_code == 400
        assert "Choose one of the clients listed." in response.text
    assert sessions().get().client is None

    chosen = client.post(reverse("portal:choose"), {"client": other.pk})
    assert chosen.status_code == 303 and chosen["Location"] == HOME
    assert other.name in client.get(HOME).text
    assert sessions().get().client == other


def test_a_contact_address_signs_in_and_removing_it_ends_the_access(client, maple, mail):
    update_client(
        client=maple,
        acting_user=None,
        contacts=[{"name": "Accounts", "email": "accounts@maple.example.com"}],
    )
    signed_in(client, "accounts@maple.example.com")
    assert client.get(HOME).status_code == 200

    update_client(client=maple, acting_user=None, contacts=[])
    assert client.get(HOME)["Location"] == SIGN_IN
    # An inactive client is not on file either.
    signed_in(client)
    update_client(client=maple, acting_user=None, is_active=False)
    assert client.get(HOME)["Location"] == SIGN_IN


def test_a_forged_or_foreign_cookie_is_no_session(client, maple, mail):
    signed_in(client)
    good = client.cookies[access.COOKIE_NAME].value
    key = signing.Signer(salt=access.SALT).unsign(good)
    for forged in (
        key,  # unsigned
        signing.Signer(salt="another.salt").sign(key),
        good[:-2] + "xx",
        signing.Signer(salt=access.SALT).sign("A" * 43),
        "",
    ):
        browser = Browser()
        browser.cookies[access.COOKIE_NAME] = forged
        assert browser.get(HOME)["Location"] == SIGN_IN, forged
    # Nor is an office session: Django's session cookie is not the portal's.
    browser = Browser()
    browser.cookies["sessionid"] = good
    assert browser.get(HOME)["Location"] == SIGN_IN


def test_requests_for_links_are_throttled_per_address_asked_about(client, maple, mail, settings):
    settings.OTB_SIGNIN_FREE_FAILURES = 3
    # Three free, the fourth counts and locks the address asked about for a while.
    for n in range(4):
        assert "on its way" in ask(Browser(REMOTE_ADDR=f"198.51.100.{n}"), ANN).text
    locked = ask(Browser(REMOTE_ADDR="198.51.100.9"), ANN)
    assert "Too many failed attempts" in locked.text
    assert Message.objects.filter(kind=MessageKind.PORTAL_SIGN_IN).count() == 4
    assert SignInThrottle.objects.filter(key="portal:" + ANN).exists()


def test_link_guessing_is_throttled_per_address(client, maple, mail, settings):
    settings.OTB_SIGNIN_FREE_FAILURES_PER_ADDRESS = 3
    ask(Browser(), ANN)
    right = last_link_to(ANN)
    guesser = Browser(REMOTE_ADDR="203.0.113.7")
    for n in range(4):
        assert guesser.get(f"/portal/sign-in/{'B' * 42}{n}/").status_code == 404
    # Locked: the right link answers as a wrong one, and is not used up.
    assert guesser.get(right).status_code == 404
    assert guesser.post(right).status_code == 404
    assert SignInLink.objects.get(used_at__isnull=True)
    assert Browser().post(right).status_code == 303


def test_the_portal_turned_off(client, maple, mail, business):
    signed_in(client)
    business.portal_enabled = False
    business.save()
    for path in (SIGN_IN, HOME, reverse("portal:invoices"), reverse("portal:choose")):
        response = client.get(path)
        assert response.status_code == 404
        assert "There is no client portal here" in response.text
    response = client.post(SIGN_IN, {"email": ANN})
    assert response.status_code == 404
    with pytest.raises(services.PortalOff):
        services.request_sign_in(email=ANN, ip_address=None, user_agent="", base_url="http://x/")


def test_portal_pages_are_private(client, maple, mail):
    pages = [client.get(SIGN_IN)]
    signed_in(client)
    pages += [client.get(HOME), client.get(reverse("portal:invoices"))]
    for page in pages:
        assert page["Referrer-Policy"] == "no-referrer"
        assert page["X-Robots-Tag"] == "noindex, nofollow"
        assert "no-store" in page["Cache-Control"]
        assert '<meta name="robots" content="noindex, nofollow">' in page.text


def test_csrf_is_checked_on_every_post_and_origin_null_needs_the_browsers_word(maple, mail):
    browser = Browser(enforce_csrf_checks=True)
    form = browser.get(SIGN_IN)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    # No token: refused.
    assert browser.post(SIGN_IN, {"email": ANN}).status_code == 403
    # The page's own form under no-referrer: "Origin: null", and the browser says same-origin.
    same_site = browser.post(
        SIGN_IN,
        {"email": ANN, "csrfmiddlewaretoken": token},
        HTTP_ORIGIN="null",
        HTTP_SEC_FETCH_SITE="same-origin",
    )
    assert same_site.status_code == 303
    # "null" from anywhere else (a sandboxed frame, a data: page) is refused.
    for site in ("cross-site", "same-site", None):
        extra = {"HTTP_ORIGIN": "null"}
        if site:
            extra["HTTP_SEC_FETCH_SITE"] = site
        refused = browser.post(SIGN_IN, {"email": ANN, "csrfmiddlewaretoken": token}, **extra)
        assert refused.status_code == 403, site
    # The sign-in button too.
    path = last_link_to(ANN)
    assert browser.post(path).status_code == 403
    assert SignInLink.objects.get(used_at__isnull=True)


def test_the_sign_in_link_is_not_logged(client, maple, mail, caplog):
    from otb.link_tokens import mask_link_tokens

    ask(client, ANN)
    path = last_link_to(ANN)
    token = path.split("/")[3]
    assert mask_link_tokens(f"GET {path} HTTP/1.1") == "GET /portal/sign-in/[token]/ HTTP/1.1"
    Browser().get(path[:-1] + "x/extra")  # a link cut short or with more added
    assert token[:-1] not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_the_e_mail_goes_out_and_its_link_signs_in(migration_rows, client, maple, mail):
    """Through the outbox and the SMTP server, as in production (delivered on commit)."""
    ask(client, ANN)

    [received] = mail.received
    assert received.rcpt_tos == [ANN]
    assert received.message["Subject"] == "Your sign-in link for My Business"
    path = LINK_PATH.search(received.text()).group(1)
    message = Message.objects.get(kind=MessageKind.PORTAL_SIGN_IN)
    assert message.status == MessageStatus.SENT
    assert message.secret_link == "" and path not in message.body  # kept only until sent
    browser = Browser()
    assert browser.post(path)["Location"] == HOME
    assert maple.name in browser.get(HOME).text


def test_a_document_links_page_leads_to_the_portal_while_it_is_on(client, invoice, business):
    from .conftest import link_to

    path = reverse("invoice_link:page", args=[link_to(invoice)[1]])
    assert f'in the <a href="{SIGN_IN}">client portal</a>' in client.get(path).text
    business.portal_enabled = False
    business.save()
    assert "client portal" not in client.get(path).text


def test_an_administrator_ends_sessions_in_the_back_office(client, maple, mail, administrator):
    browser = Browser()
    signed_in(browser)
    session = sessions().get()
    client.force_login(administrator)

    listed = client.get(reverse("admin:portal_portalsession_changelist"))
    assert listed.status_code == 200 and ANN in listed.text
    assert session.key_hash not in listed.text
    detail = client.get(reverse("admin:portal_portalsession_change", args=[session.pk]))
    assert detail.status_code == 200 and session.key_hash not in detail.text
    ended = client.post(
        reverse("admin:portal_portalsession_changelist"),
        {"action": "end_selected", "_selected_action": [session.pk]},
        follow=True,
    )
    assert "1 session ended." in ended.text
    assert browser.get(HOME)["Location"] == SIGN_IN
    links = client.get(reverse("admin:portal_signinlink_changelist"))
    assert links.status_code == 200 and ANN in links.text
