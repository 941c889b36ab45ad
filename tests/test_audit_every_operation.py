"""Every operation, found by introspection, run once: each must leave audit records with the
values before and after (SPEC: Audit). A new operation fails here until it has an example
below, and then until it records what it writes.

The tests run with OTB_AUDIT_STRICT, so any operation anywhere in the suite that writes
without a record fails too; this file makes sure each one is run at least once."""

from __future__ import annotations

import datetime
import importlib
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.utils import timezone

from audit import recording
from audit.models import Action, AuditRecord
from otb.operations import REGISTRY
from tests import codebase
from tests.factories import ClientFactory, ServiceFactory, draft, issued, line, pay

pytestmark = pytest.mark.django_db

SKIPPED_MODULES = ("otb.settings", "otb.wsgi", "otb.asgi")


def _import_product_code() -> None:
    for name in sorted(codebase.product_modules()):
        if not name.startswith(SKIPPED_MODULES):
            importlib.import_module(name)


_import_product_code()


# --- One example per operation: it runs that operation (maybe through a public caller) ---
def _request():
    request = RequestFactory().post("/", REMOTE_ADDR="203.0.113.5")
    request.session = {}
    return request


def _user(name="someone"):
    return get_user_model().objects.create_user(name, password="pw-audit-123456")


def _message():
    from outbox.models import Message, MessageStatus

    return Message.objects.create(
        kind="test",
        status=MessageStatus.FAILED,
        from_address="a@example.com",
        to_addresses="b@example.com",
        subject="Hello",
        body="Hi",
        message_id="<x@example.com>",
        needs_attention=True,
    )


def _smtp_ready(business):
    business.smtp_host = "127.0.0.1"
    business.smtp_port = 9  # nothing listens; nothing is delivered in these tests anyway
    business.smtp_from_email = "billing@example.com"
    business.send_payment_receipts = True
    business.save()


def _second_factor_user():
    from accounts import second_factor

    user = _user("twofa")
    device = second_factor.begin_setup(user=user)
    return user, device


def ex_activate(ctx):
    from accounts import second_factor

    user, device = _second_factor_user()
    second_factor._activate(user=user, device=device)


def ex_begin_setup(ctx):
    from accounts import second_factor

    second_factor.begin_setup(user=_user())


def ex_new_backup_codes(ctx):
    from accounts import second_factor

    user, device = _second_factor_user()
    second_factor._activate(user=user, device=device)
    second_factor.new_backup_codes(user=user)


def ex_turn_off(ctx):
    from accounts import second_factor

    user, device = _second_factor_user()
    second_factor._activate(user=user, device=device)
    second_factor.turn_off(user=user)


def ex_reset_second_factor(ctx):
    from accounts import second_factor

    user, device = _second_factor_user()
    second_factor._activate(user=user, device=device)
    second_factor.reset_second_factor(username=user.username, acting_user=None)


def ex_create_user(ctx):
    from accounts.services import create_user

    create_user(username="newbie", role="viewer", password="Pw-for-audit-2026")
    create_user(username="newbie", role="bookkeeper", password="Pw-for-audit-2027", reset=True)


def _locked(username):
    from accounts import throttle

    throttle.record_failure(keys=[throttle.account_key(username)], what=throttle.PASSWORD)


def ex_lift_locks(ctx):
    from accounts import throttle
    from accounts.services import lift_locks

    _locked("x")
    lift_locks(keys=[throttle.account_key("x")])


def ex_unlock_user(ctx):
    from accounts.services import unlock_user

    user = _user("lockedout")
    _locked(user.username)
    unlock_user(username=user.username)


def ex_record_failure(ctx):
    _locked("anyone")


def ex_record_success(ctx):
    from accounts import throttle

    throttle.record_success(keys=[throttle.account_key("anyone")], what=throttle.PASSWORD)


def ex_refused_while_locked(ctx):
    from accounts import throttle

    throttle.refused_while_locked(keys=[throttle.account_key("x")], what=throttle.PASSWORD)


def ex_run_once(ctx):
    from rest_framework.response import Response

    from api.idempotency import _run_once
    from billing.services import create_client

    def create():
        create_client(acting_user=None, code="IDEM", name="Idem Ltd", country="CA")
        return Response({"code": "IDEM"}, status=201)

    _run_once(user=ctx["admin"], key="k-1", fingerprint="f", create=create)


def ex_seed_demo(ctx):
    from billing.management.commands.seed_demo import seed_demo_data

    seed_demo_data()


def ex_create_client(ctx):
    from billing.services import create_client

    create_client(acting_user=ctx["admin"], code="NEW", name="New Client", country="CA")


def ex_update_client(ctx):
    from billing.services import update_client

    update_client(client=ClientFactory(), acting_user=ctx["admin"], name="Renamed")


def ex_create_service(ctx):
    from billing.services import create_service

    create_service(acting_user=ctx["admin"], code="SVC", name="Service", unit_price="10")


def ex_update_service(ctx):
    from billing.services import update_service

    update_service(service=ServiceFactory(), acting_user=ctx["admin"], name="Other")


def ex_cancel_invoice(ctx):
    from billing.services import cancel_invoice

    cancel_invoice(invoice=issued(), acting_user=ctx["admin"], reason="Wrong client")


def ex_create_draft(ctx):
    draft()


def ex_delete_draft(ctx):
    from billing.services import delete_draft

    delete_draft(invoice=draft(), acting_user=ctx["admin"])


def ex_issue_invoice(ctx):
    issued()


def ex_refresh_overdue(ctx):
    from billing.services import refresh_overdue

    today = datetime.date.today()
    issued(issue_date=today, due_date=today + datetime.timedelta(days=1))
    refresh_overdue(today=today + datetime.timedelta(days=30))


def ex_update_invoice(ctx):
    from billing.services import update_invoice

    update_invoice(
        invoice=issued(), acting_user=ctx["admin"], lines=[line(quantity="2")], notes="More"
    )


def ex_apply_client_credit(ctx):
    from billing.services import apply_client_credit, post_manual_credit

    invoice = issued()
    post_manual_credit(client=invoice.client, amount="50", memo="Goodwill", acting_user=None)
    apply_client_credit(invoice=invoice, acting_user=ctx["admin"])


def ex_confirm_payment(ctx):
    from billing.services import confirm_payment

    payment = pay(issued(), "10", confirmed=False)
    confirm_payment(payment=payment, acting_user=ctx["admin"])


def ex_delete_client(ctx):
    from billing.services import delete_client

    delete_client(client=ClientFactory(), acting_user=ctx["admin"])


def ex_duplicate_invoice(ctx):
    from billing.services import duplicate_invoice

    duplicate_invoice(invoice=issued(), acting_user=ctx["admin"])


def ex_queue_document(ctx):
    from outbox.models import MessageKind
    from outbox.services import queue_document

    _smtp_ready(ctx["business"])
    queue_document(
        kind=MessageKind.STATEMENT,
        to="ap@example.com",
        subject="Statement",
        body="Hello",
        content=b"%PDF-1.4 statement",
        filename="statement.pdf",
        acting_user=ctx["admin"],
    )


def ex_queue_linked_document(ctx):
    from links.documents import Statement
    from outbox.models import MessageKind
    from outbox.services import queue_linked_document

    _smtp_ready(ctx["business"])
    client = ClientFactory(email="ap@example.com")
    queue_linked_document(
        document=Statement(client, datetime.date(2026, 1, 1), datetime.date(2026, 12, 31)),
        page="statement_link:page",
        kind=MessageKind.STATEMENT,
        recipients=["ap@example.com"],
        subject="Statement",
        body="Hello: {link}",
        content=b"%PDF-1.4 statement",
        filename="statement.pdf",
        acting_user=ctx["admin"],
        base_url="http://testserver/",
    )


def ex_update_payment(ctx):
    from billing.services import update_payment

    payment = pay(issued(), "10", confirmed=False)
    update_payment(payment=payment, acting_user=ctx["admin"], amount="12.00", reference="Chq 7")


def ex_post_manual_credit(ctx):
    from billing.services import post_manual_credit

    post_manual_credit(client=ClientFactory(), amount="5", memo="Goodwill", acting_user=None)


def ex_post_manual_debit(ctx):
    from billing.services import post_manual_debit

    post_manual_debit(client=ClientFactory(), amount="5", memo="Fee", acting_user=None)


def ex_post_opening_balance(ctx):
    from billing.services import post_opening_balance

    post_opening_balance(client=ClientFactory(), owed="120.50", acting_user=None)


def ex_keep_upload(ctx):
    from imports.services import keep_upload

    keep_upload(
        kind="clients",
        file_name="c.csv",
        data=b"name\nA\n",
        cut_over=None,
        acting_user=ctx["admin"],
    )


def ex_keep_mapping(ctx):
    from imports.kinds import CLIENTS
    from imports.services import keep_mapping

    keep_mapping(kind=CLIENTS, headers=("Nom",), mapping={"Nom": "name"}, acting_user=None)
    keep_mapping(kind=CLIENTS, headers=("Nom",), mapping={}, acting_user=None)


def ex_discard_upload(ctx):
    from imports.services import discard_upload, keep_upload

    pending = keep_upload(
        kind="clients",
        file_name="c.csv",
        data=b"name\nA\n",
        cut_over=None,
        acting_user=ctx["admin"],
    )
    discard_upload(pending=pending, acting_user=ctx["admin"])


def ex_import_upload(ctx):
    from imports.services import import_upload, keep_upload

    pending = keep_upload(
        kind="clients",
        file_name="c.csv",
        data=b"code,name,country\nA,Alpha,CA\n",
        cut_over=None,
        acting_user=ctx["admin"],
    )
    mapping = {"code": "code", "name": "name", "country": "country"}
    assert import_upload(pending=pending, mapping=mapping, acting_user=ctx["admin"]).written


def ex_import_table(ctx):
    from imports.kinds import SERVICES
    from imports.reading import read_table
    from imports.services import import_table

    table = read_table(b"code,name,unit_price\nDESIGN,Design,95\n")
    mapping = {"code": "code", "name": "name", "unit_price": "unit_price"}
    outcome = import_table(kind=SERVICES, table=table, mapping=mapping, acting_user=ctx["admin"])
    assert outcome.written


def ex_preview_table(ctx):
    from imports.kinds import SERVICES
    from imports.reading import read_table
    from imports.services import preview_table

    table = read_table(b"code,name,unit_price\nDESIGN,Design,95\n")
    mapping = {"code": "code", "name": "name", "unit_price": "unit_price"}
    outcome = preview_table(kind=SERVICES, table=table, mapping=mapping, acting_user=ctx["admin"])
    assert outcome.ok and not outcome.written


def ex_record_payment(ctx):
    pay(issued(), "10")


def ex_reverse_payment(ctx):
    from billing.services import reverse_payment

    reverse_payment(payment=pay(issued(), "10"), reason="Bounced", acting_user=ctx["admin"])


def _credit_note(ctx, **kwargs):
    from billing.services import create_credit_note

    return create_credit_note(invoice=issued(), acting_user=ctx["admin"], **kwargs)


def ex_create_credit_note(ctx):
    _credit_note(ctx, kind="amount", amount="10.00")


def ex_update_credit_note(ctx):
    from billing.services import update_credit_note

    note = _credit_note(ctx, kind="amount", amount="10.00")
    update_credit_note(credit_note=note, acting_user=ctx["admin"], amount="20.00")


def ex_delete_credit_note(ctx):
    from billing.services import delete_credit_note

    delete_credit_note(credit_note=_credit_note(ctx), acting_user=ctx["admin"])


def ex_issue_credit_note(ctx):
    from billing.services import issue_credit_note

    issue_credit_note(credit_note=_credit_note(ctx), acting_user=ctx["admin"])


def ex_fill_missing_rates(ctx):
    from billing.models import Invoice
    from billing.services.exchange import fill_missing_rates

    invoice = issued(client=ClientFactory(default_currency="USD"))
    Invoice.objects.filter(pk=invoice.pk).update(
        exchange_rate=None,
        rate_date=None,
        subtotal_in_base=None,
        discount_in_base=None,
        tax_in_base=None,
        total_in_base=None,
    )
    fill_missing_rates(acting_user=ctx["admin"])


def _refund(ctx):
    from billing.services import post_manual_credit, record_refund
    from settings_app.selectors import business_today

    client = ClientFactory()
    post_manual_credit(client=client, amount="50", memo="Goodwill", acting_user=None)
    return record_refund(
        client=client, amount="20", date=business_today(), method="cheque", acting_user=ctx["admin"]
    )


def ex_record_refund(ctx):
    _refund(ctx)


def ex_reverse_refund(ctx):
    from billing.services import reverse_refund

    reverse_refund(refund=_refund(ctx), reason="Never cashed", acting_user=ctx["admin"])


def ex_delete_rows(ctx):
    from billing.models import Service
    from otb.admin import delete_rows

    delete_rows(Service, [ServiceFactory().pk])


def ex_record_admin_save(ctx):
    from otb.admin import record_admin_save

    record_admin_save(obj=ClientFactory(), before=None, acting_user=ctx["admin"])


def ex_record_admin_event(ctx):
    from otb.admin import record_admin_event

    record_admin_event(name="password set", obj=ctx["admin"], acting_user=ctx["admin"])


def ex_record_admin_delete(ctx):
    from otb.admin import record_admin_delete

    record_admin_delete(objs=[ClientFactory()], acting_user=ctx["admin"])


# --- Quotes and their links ---------------------------------------------------------------
def _quote(ctx, *, sent=True):
    from quotes import services

    quote = services.create_quote(
        client=ClientFactory(email="ann@example.com"), acting_user=ctx["admin"], lines=[line()]
    )
    return services.mark_sent(quote=quote, acting_user=ctx["admin"]) if sent else quote


def ex_create_quote(ctx):
    _quote(ctx, sent=False)


def ex_update_quote(ctx):
    from quotes.services import update_quote

    update_quote(quote=_quote(ctx), acting_user=ctx["admin"], notes="Two coats, not one.")


def ex_delete_quote(ctx):
    from quotes.services import delete_quote

    delete_quote(quote=_quote(ctx, sent=False), acting_user=ctx["admin"])


def ex_duplicate_quote(ctx):
    from quotes.services import duplicate_quote

    duplicate_quote(quote=_quote(ctx), acting_user=ctx["admin"])


def ex_mark_quote_sent(ctx):
    _quote(ctx)


def ex_withdraw_quote(ctx):
    from quotes.services import withdraw_quote

    withdraw_quote(quote=_quote(ctx), acting_user=ctx["admin"], reason="Priced too low")


def ex_answer_quote_by_link(ctx):
    from quotes import document
    from quotes.services import accept_by_link

    quote = _quote(ctx)
    accept_by_link(
        quote=quote,
        shown_key=document.version_key(document.quote_data(document.load_quote(pk=quote.pk))),
        name="Ann Smith",
        agreed=True,
        ip_address="203.0.113.5",
        user_agent="Firefox",
    )


def ex_record_quote_answer(ctx):
    from quotes.services import record_answer

    record_answer(
        quote=_quote(ctx), acting_user=ctx["admin"], answer="declined", name="Ann", channel="phone"
    )


def ex_convert_quote(ctx):
    from quotes.services import convert_quote

    convert_quote(quote=_quote(ctx), acting_user=ctx["admin"])


def ex_queue_quote(ctx):
    from quotes.sending import send_quote

    _smtp_ready(ctx["business"])
    send_quote(
        quote=_quote(ctx),
        acting_user=ctx["admin"],
        to="ann@example.com",
        subject="Quote {quote_number}",
        body="Read it here: {link}",
        base_url="http://testserver/",
    )


def ex_issue_link(ctx):
    from links.services import issue_link

    issue_link(document=_quote(ctx), recipient="ann@example.com", acting_user=ctx["admin"])


def ex_revoke_link(ctx):
    from links.services import issue_link, revoke_link

    link, _token = issue_link(
        document=_quote(ctx), recipient="ann@example.com", acting_user=ctx["admin"]
    )
    revoke_link(link=link, acting_user=ctx["admin"], reason="Wrong person")


def ex_record_view(ctx):
    from links.services import issue_link, record_view

    link, _token = issue_link(document=_quote(ctx), recipient="ann@example.com", acting_user=None)
    record_view(link=link, ip_address="203.0.113.5", user_agent="Firefox")


def ex_report_payment(ctx):
    from links.services import issue_link
    from portal.services import report_payment
    from settings_app.selectors import business_today

    link, _token = issue_link(document=issued(), recipient="ann@example.com", acting_user=None)
    report_payment(
        link=link,
        amount="10.00",
        date=business_today(),
        method="e_transfer",
        reference="TX-1",
        ip_address="203.0.113.5",
        user_agent="Firefox",
    )


def _portal_session(address="ann@example.com"):
    from portal.services import request_sign_in, sign_in
    from portal.tests.signin_helpers import token_of

    ClientFactory(email=address)
    link = request_sign_in(email=address, ip_address=None, user_agent="", base_url="http://x/")
    return sign_in(token=token_of(link), ip_address="203.0.113.5", user_agent="Firefox")[0]


def ex_request_sign_in(ctx):
    from portal.services import request_sign_in

    _smtp_ready(ctx["business"])
    ClientFactory(email="ann@example.com")
    request_sign_in(email="ann@example.com", ip_address=None, user_agent="", base_url="http://x/")


def ex_sign_in(ctx):
    _smtp_ready(ctx["business"])
    _portal_session()


def ex_choose_client(ctx):
    from portal.services import choose_client

    _smtp_ready(ctx["business"])
    session = _portal_session()
    other = ClientFactory(email="ann@example.com")
    choose_client(session=session, client_id=other.pk)


def ex_sign_out(ctx):
    from portal.services import sign_out

    _smtp_ready(ctx["business"])
    sign_out(session=_portal_session())


def ex_sign_out_everywhere(ctx):
    from portal.services import sign_out_everywhere

    _smtp_ready(ctx["business"])
    sign_out_everywhere(session=_portal_session())


def ex_end_sessions(ctx):
    from portal.services import end_sessions

    _smtp_ready(ctx["business"])
    end_sessions(sessions=[_portal_session()], acting_user=ctx["admin"])


def ex_report_payment_in_portal(ctx):
    from links.documents import hash_token, new_token
    from portal.models import SignInLink
    from portal.services import report_payment_in_portal, sign_in
    from settings_app.selectors import business_today

    invoice = issued(client=ClientFactory(email="ann@example.com"))
    token, now = new_token(), timezone.now()
    SignInLink.objects.create(
        email="ann@example.com",
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + datetime.timedelta(minutes=15),
    )
    session, _key = sign_in(token=token, ip_address="203.0.113.5", user_agent="Firefox")
    report_payment_in_portal(
        session=session,
        invoice=invoice,
        amount="12.00",
        date=business_today() - datetime.timedelta(days=1),
        method="cheque",
        reference="Cheque 118",
        ip_address="198.51.100.4",
        user_agent="Safari",
    )


# --- Recurring schedules ------------------------------------------------------------------
def _schedule(ctx, **kwargs):
    from recurring import services

    return services.create_schedule(
        client=ClientFactory(email="ann@example.com"),
        acting_user=ctx["admin"],
        name="Hosting",
        start_date="2026-01-31",
        lines=[line()],
        **kwargs,
    )


def ex_create_schedule(ctx):
    _schedule(ctx)


def ex_update_schedule(ctx):
    from recurring.services import update_schedule

    update_schedule(schedule=_schedule(ctx), acting_user=ctx["admin"], name="Hosting, gold")


def ex_pause_schedule(ctx):
    from recurring.services import pause_schedule

    pause_schedule(schedule=_schedule(ctx), acting_user=ctx["admin"], starts_on="2026-03-01")


def ex_resume_schedule(ctx):
    from recurring.services import pause_schedule, resume_schedule

    schedule = pause_schedule(
        schedule=_schedule(ctx), acting_user=ctx["admin"], starts_on="2026-03-01"
    )
    resume_schedule(schedule=schedule, acting_user=ctx["admin"], ends_on="2026-04-01")


def ex_end_schedule(ctx):
    from recurring.services import end_schedule

    end_schedule(schedule=_schedule(ctx), acting_user=ctx["admin"], reason="Contract over")


def ex_delete_schedule(ctx):
    from recurring.services import delete_schedule

    delete_schedule(schedule=_schedule(ctx), acting_user=ctx["admin"])


def ex_bill_due(ctx):
    from recurring.services import bill_due

    bill_due(limits={_schedule(ctx).pk: 12}, today=datetime.date(2026, 3, 1), budget=100)


def ex_settle_email(ctx):
    from recurring.models import Occurrence
    from recurring.services import bill_due, settle_email

    batch = bill_due(
        limits={_schedule(ctx, email_invoices=True).pk: 1},
        today=datetime.date(2026, 2, 1),
        budget=1,
    )
    occurrence = batch.occurrences[0]
    assert isinstance(occurrence, Occurrence) and occurrence.email_pending
    settle_email(occurrence=occurrence, note="Not e-mailed: e-mail is not set up.")


def ex_delivery_record(ctx):
    from outbox import delivery, smtp

    message = _message()
    delivery._record(
        message_id=message.pk,
        outcome=smtp.Outcome(sent=True),
        started_at=timezone.now(),
        server="test",
        acting_user=None,
    )


def ex_recover_stalled(ctx):
    from outbox import delivery
    from outbox.models import Message, MessageStatus

    message = _message()
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENDING, claimed_at=timezone.now() - datetime.timedelta(hours=1)
    )
    delivery.recover_stalled()


def ex_queue_receipt(ctx):
    from outbox.receivers import _queue_receipt

    _smtp_ready(ctx["business"])
    _queue_receipt(payment_id=pay(issued(), "10").pk)


def ex_queue_invoice(ctx):
    from outbox.services import send_invoice

    _smtp_ready(ctx["business"])
    send_invoice(
        invoice=issued(),
        to="c@example.com",
        subject="Inv",
        body="Here: {link}",
        acting_user=None,
        base_url="http://testserver/",
    )


def ex_mark_dealt_with(ctx):
    from outbox.services import mark_dealt_with

    mark_dealt_with(message=_message(), acting_user=ctx["admin"])


def ex_queue_sign_in_link(ctx):
    from outbox.models import MessageKind
    from outbox.services import queue_sign_in_link

    _smtp_ready(ctx["business"])
    queue_sign_in_link(
        kind=MessageKind.PORTAL_SIGN_IN,
        to="a@example.com",
        subject="Reset",
        body_template=lambda m: f"Go {m}",
        link="http://x/",
    )


def ex_queue_reminder(ctx):
    from outbox.services import queue_reminder
    from settings_app.models import ReminderStage

    _smtp_ready(ctx["business"])
    stage = ReminderStage.objects.create(
        name="Late", days_from_due=3, subject="Late", body="Pay", attach_pdf=False
    )
    queue_reminder(
        invoice=issued(),
        stage=stage,
        today=datetime.date.today(),
        base_url="http://testserver/",
    )


def ex_retry_message(ctx):
    from outbox.services import retry_message

    retry_message(message=_message(), acting_user=ctx["admin"])


def ex_send_test_email(ctx):
    from outbox.services import send_test_email

    _smtp_ready(ctx["business"])
    send_test_email(to="a@example.com", acting_user=ctx["admin"])


def ex_update_business_settings(ctx):
    from settings_app.services import update_business_settings

    update_business_settings(
        acting_user=ctx["admin"], business_name="Renamed Ltd", smtp_password="s3cret"
    )


def ex_create_tax(ctx):
    from settings_app.services import create_tax

    create_tax(acting_user=ctx["admin"], label="QST", rate="9.975", number="1234567890 TQ0001")


def ex_update_tax(ctx):
    from settings_app.models import Tax
    from settings_app.services import update_tax

    update_tax(tax=Tax.objects.get(label="HST"), acting_user=ctx["admin"], rate="15")


def ex_record_rate(ctx):
    from rates.services import record_rate

    record_rate(acting_user=ctx["admin"], currency="USD", date="2026-12-01", rate="1.3625")
    record_rate(acting_user=ctx["admin"], currency="USD", date="2026-12-01", rate="1.37")


def ex_update_rate(ctx):
    from rates.services import record_rate, update_rate

    rate = record_rate(acting_user=None, currency="EUR", date="2026-12-01", rate="1.49")
    update_rate(rate_row=rate, acting_user=ctx["admin"], rate="1.5", source="Bank")


def ex_delete_rate(ctx):
    from rates.services import delete_rate, record_rate

    rate = record_rate(acting_user=None, currency="GBP", date="2026-12-01", rate="1.72")
    delete_rate(rate_row=rate, acting_user=ctx["admin"])


def ex_import_rates(ctx):
    from pathlib import Path

    from rates import importing

    daily = str(Path(importing.__file__).parent / "tests" / "data" / "eurofxref-daily.xml")
    importing.import_rates(
        data=importing.fetch_source(daily), acting_user=ctx["admin"], origin=daily
    )


def ex_reencrypt_all(ctx):
    from otb.secrets import reencrypt_all
    from settings_app.services import update_business_settings

    update_business_settings(acting_user=None, smtp_password="s3cret")
    reencrypt_all()


EXAMPLES = {
    "accounts.second_factor._activate": ex_activate,
    "accounts.second_factor.begin_setup": ex_begin_setup,
    "accounts.second_factor.new_backup_codes": ex_new_backup_codes,
    "accounts.second_factor.reset_second_factor": ex_reset_second_factor,
    "accounts.second_factor.turn_off": ex_turn_off,
    "accounts.services.create_user": ex_create_user,
    "accounts.services.lift_locks": ex_lift_locks,
    "accounts.services.unlock_user": ex_unlock_user,
    "accounts.throttle.record_failure": ex_record_failure,
    "accounts.throttle.record_success": ex_record_success,
    "accounts.throttle.refused_while_locked": ex_refused_while_locked,
    "api.idempotency._run_once": ex_run_once,
    "billing.management.commands.seed_demo.seed_demo_data": ex_seed_demo,
    "billing.services.clients.create_client": ex_create_client,
    "billing.services.clients.create_service": ex_create_service,
    "billing.services.clients.update_client": ex_update_client,
    "billing.services.clients.update_service": ex_update_service,
    "billing.services.invoices.cancel_invoice": ex_cancel_invoice,
    "billing.services.invoices.create_draft": ex_create_draft,
    "billing.services.invoices.delete_draft": ex_delete_draft,
    "billing.services.invoices.issue_invoice": ex_issue_invoice,
    "billing.services.invoices.refresh_overdue": ex_refresh_overdue,
    "billing.services.invoices.duplicate_invoice": ex_duplicate_invoice,
    "billing.services.invoices.update_invoice": ex_update_invoice,
    "billing.services.clients.delete_client": ex_delete_client,
    "billing.services.credit_notes.create_credit_note": ex_create_credit_note,
    "billing.services.credit_notes.update_credit_note": ex_update_credit_note,
    "billing.services.credit_notes.delete_credit_note": ex_delete_credit_note,
    "billing.services.credit_notes.issue_credit_note": ex_issue_credit_note,
    "billing.services.exchange.fill_missing_rates": ex_fill_missing_rates,
    "billing.services.refunds.record_refund": ex_record_refund,
    "billing.services.refunds.reverse_refund": ex_reverse_refund,
    "billing.services.payments.apply_client_credit": ex_apply_client_credit,
    "billing.services.payments.confirm_payment": ex_confirm_payment,
    "billing.services.payments.post_manual_credit": ex_post_manual_credit,
    "billing.services.payments.post_manual_debit": ex_post_manual_debit,
    "billing.services.payments.post_opening_balance": ex_post_opening_balance,
    "imports.services.keep_upload": ex_keep_upload,
    "imports.services.keep_mapping": ex_keep_mapping,
    "imports.services.discard_upload": ex_discard_upload,
    "imports.services.import_upload": ex_import_upload,
    "imports.services.import_table": ex_import_table,
    "imports.services.preview_table": ex_preview_table,
    "billing.services.payments.record_payment": ex_record_payment,
    "billing.services.payments.reverse_payment": ex_reverse_payment,
    "billing.services.payments.update_payment": ex_update_payment,
    "otb.admin.delete_rows": ex_delete_rows,
    "otb.admin.record_admin_delete": ex_record_admin_delete,
    "otb.admin.record_admin_event": ex_record_admin_event,
    "otb.admin.record_admin_save": ex_record_admin_save,
    "otb.secrets.reencrypt_all": ex_reencrypt_all,
    "outbox.delivery._record": ex_delivery_record,
    "outbox.services.queue_document": ex_queue_document,
    "outbox.services.queue_linked_document": ex_queue_linked_document,
    "outbox.delivery.recover_stalled": ex_recover_stalled,
    "outbox.receivers._queue_receipt": ex_queue_receipt,
    "outbox.services._queue_invoice": ex_queue_invoice,
    "recurring.services.bill_due": ex_bill_due,
    "recurring.services.create_schedule": ex_create_schedule,
    "recurring.services.delete_schedule": ex_delete_schedule,
    "recurring.services.end_schedule": ex_end_schedule,
    "recurring.services.pause_schedule": ex_pause_schedule,
    "recurring.services.resume_schedule": ex_resume_schedule,
    "recurring.services.settle_email": ex_settle_email,
    "recurring.services.update_schedule": ex_update_schedule,
    "outbox.services.mark_dealt_with": ex_mark_dealt_with,
    "outbox.services.queue_sign_in_link": ex_queue_sign_in_link,
    "outbox.services.queue_reminder": ex_queue_reminder,
    "outbox.services.retry_message": ex_retry_message,
    "outbox.services.send_test_email": ex_send_test_email,
    "settings_app.services.update_business_settings": ex_update_business_settings,
    "settings_app.services.create_tax": ex_create_tax,
    "settings_app.services.update_tax": ex_update_tax,
    "rates.services.record_rate": ex_record_rate,
    "rates.services.update_rate": ex_update_rate,
    "rates.services.delete_rate": ex_delete_rate,
    "rates.importing.import_rates": ex_import_rates,
    "quotes.services.create_quote": ex_create_quote,
    "quotes.services.update_quote": ex_update_quote,
    "quotes.services.delete_quote": ex_delete_quote,
    "quotes.services.duplicate_quote": ex_duplicate_quote,
    "quotes.services.mark_sent": ex_mark_quote_sent,
    "quotes.services.withdraw_quote": ex_withdraw_quote,
    "quotes.services._answer_by_client": ex_answer_quote_by_link,
    "quotes.services._record_answer": ex_record_quote_answer,
    "quotes.services._convert": ex_convert_quote,
    "quotes.sending._queue_quote": ex_queue_quote,
    "links.services.issue_link": ex_issue_link,
    "links.services.revoke_link": ex_revoke_link,
    "links.services.record_view": ex_record_view,
    "portal.services.report_payment": ex_report_payment,
    "portal.services.report_payment_in_portal": ex_report_payment_in_portal,
    "portal.services.request_sign_in": ex_request_sign_in,
    "portal.services.sign_in": ex_sign_in,
    "portal.services.choose_client": ex_choose_client,
    "portal.services.sign_out": ex_sign_out,
    "portal.services.sign_out_everywhere": ex_sign_out_everywhere,
    "portal.services.end_sessions": ex_end_sessions,
}


# Operations that write and roll back, by design: an import's preview runs the import.
ROLLED_BACK = frozenset({"imports.services.preview_table"})


def test_every_operation_has_an_example():
    assert set(REGISTRY) - set(EXAMPLES) == set(), "add an example for each new operation"
    assert set(EXAMPLES) - set(REGISTRY) == set(), "an example for an operation that is gone"


def _check(record: AuditRecord) -> None:
    """A record holds the values before and after that its action implies."""
    assert record.operation, record
    assert record.source, record
    if record.action == Action.CREATED:
        assert record.before is None and record.after, record
    elif record.action == Action.CHANGED:
        assert record.before and record.after, record
        assert set(record.before) == set(record.after), record
        assert all(record.before[k] != record.after[k] for k in record.before), record
    elif record.action == Action.DELETED:
        assert record.before and record.after is None, record
    else:
        assert record.after and record.after.get("event"), record


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_operation_records_what_it_writes(name, business, administrator, migration_rows):
    scopes: list[recording.Scope] = []
    recording.scope_listeners.append(scopes.append)
    first = AuditRecord.objects.order_by("-id").values_list("id", flat=True).first() or 0
    try:
        EXAMPLES[name]({"admin": administrator, "business": business})
    finally:
        recording.scope_listeners.remove(scopes.append)

    ran = [scope for scope in scopes if name in scope.ran]
    assert ran, f"the example of {name} did not run it"
    for scope in ran:
        # Strict mode refuses a scope that wrote without a record; here each must have one.
        assert scope.records, (name, scope.writes)
    records = list(AuditRecord.objects.filter(id__gt=first))
    if name in ROLLED_BACK:
        assert not records  # it recorded what it wrote, and rolled both back
        return
    assert records
    for record in records:
        _check(record)


def test_a_change_records_the_old_and_new_values_and_who(business, administrator):
    from billing.services import update_client

    client = ClientFactory(name="Old Name")
    update_client(client=client, acting_user=administrator, name="New Name")

    record = AuditRecord.objects.get(operation="billing.services.clients.update_client")
    assert record.before == {"name": "Old Name"}
    assert record.after == {"name": "New Name"}
    assert record.actor_id == administrator.pk and record.actor_name == "admin1"
    assert record.object_type == "billing.client" and record.object_id == str(client.pk)


def test_secrets_are_never_copied_into_the_trail(business, administrator):
    from settings_app.services import update_business_settings

    update_business_settings(acting_user=administrator, smtp_password="very-secret-pw")

    record = AuditRecord.objects.get(operation="settings_app.services.update_business_settings")
    assert record.after == {"smtp_password": recording.HIDDEN_CHANGED}
    assert "very-secret-pw" not in str(list(AuditRecord.objects.values()))


def test_an_operation_that_writes_without_a_record_is_refused(db, settings):
    from django.db import connection

    from billing.models import Client
    from otb.operations import operation

    settings.OTB_AUDIT_STRICT = True

    @operation
    def sneaky() -> None:
        Client.objects.create(code="SNEAK", name="Sneak")

    with pytest.raises(recording.UnauditedWrite, match="billing_client"):
        sneaky()
    REGISTRY.pop(
        f"{__name__}.test_an_operation_that_writes_without_a_record_is_refused.<locals>.sneaky"
    )
    assert not Client.objects.filter(code="SNEAK").exists()
    assert connection.in_atomic_block  # the test's own transaction is still usable


def test_a_decimal_is_recorded_as_written(business, administrator):
    from billing.services import post_manual_credit

    post_manual_credit(
        client=ClientFactory(), amount=Decimal("12.50"), memo="Goodwill", acting_user=None
    )

    record = AuditRecord.objects.get(object_type="ledger.ledgerentry")
    assert record.after["amount"] == "12.50"


def test_a_save_that_changes_nothing_records_nothing_and_is_allowed(business, administrator):
    from billing.services import update_client

    client = ClientFactory(name="Same")
    update_client(client=client, acting_user=administrator, name="Same")

    assert not AuditRecord.objects.filter(object_type="billing.client").exists()
