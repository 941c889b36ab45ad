"""The Content-Security-Policy in Chromium (issue 15): no office page breaks it (no inline
script, no inline style, nothing from another host), and the invoice form's live totals
still work under it."""

from pathlib import Path

import pytest

from billing.models import Client, CreditNote, Invoice, Payment, Service
from imports.models import PendingImport
from imports.services import keep_upload
from outbox.models import Message
from rates.models import ExchangeRate
from recurring.models import Schedule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN = "csp-admin"
PASSWORD = "Csp-browser-pw-2026"


@pytest.fixture
def demo(migration_rows):
    from accounts.services import create_user
    from billing.management.commands.seed_demo import seed_demo_data

    seed_demo_data()
    admin = create_user(username=ADMIN, role="administrator", password=PASSWORD)
    # A file waiting for its import, for its preview page (the uploader's alone).
    sample = Path(__file__).resolve().parents[1] / "docs/imports-samples/invoiceninja-clients.csv"
    keep_upload(
        kind="clients",
        file_name=sample.name,
        data=sample.read_bytes(),
        cut_over=None,
        acting_user=admin,
    )
    Message.objects.create(
        kind="test",
        from_address="a@example.com",
        to_addresses="b@example.com",
        subject="Hello",
        body="Hi",
        message_id="<csp@example.com>",
    )
    if not Schedule.objects.exists():
        import datetime

        from recurring.services import create_schedule
        from tests.factories import line

        create_schedule(
            client=Client.objects.filter(is_active=True).order_by("code").first(),
            acting_user=None,
            name="Monthly hosting",
            start_date=datetime.date(2026, 1, 31),
            lines=[line(description="Hosting, {month} {year}")],
        )


def office_pages() -> list[str]:
    client = Client.objects.order_by("code").first()
    service = Service.objects.order_by("code").first()
    issued = Invoice.objects.exclude(number=None).order_by("sequence").first()
    drafted = Invoice.objects.filter(number=None).first()
    payment = Payment.objects.first()
    message = Message.objects.first()
    note = CreditNote.objects.order_by("pk").first()
    rate = ExchangeRate.objects.order_by("-date", "pk").first()  # the demo's ECB rates
    schedule = Schedule.objects.order_by("pk").first()
    return [
        "/",
        "/invoices/",
        "/invoices/new/",
        f"/invoices/{issued.number}/",
        f"/invoices/draft/{drafted.pk}/",
        f"/invoices/id/{drafted.pk}/edit/",
        f"/invoices/id/{issued.pk}/send/",
        f"/invoices/id/{issued.pk}/credit/",
        "/credit-notes/",
        f"/credit-notes/{note.pk}/",
        "/payments/",
        "/payments/new/",
        f"/payments/{payment.pk}/reverse/",
        "/clients/",
        "/clients/new/",
        f"/clients/{client.code}/",
        f"/clients/{client.code}/edit/",
        f"/clients/{client.code}/ledger/",
        "/services/",
        f"/services/{service.code}/edit/",
        "/reports/",
        "/reports/outstanding/",
        "/reports/revenue/",
        "/reports/tax/",
        f"/reports/statement/?client={client.code}",
        "/exports/",
        "/imports/",
        f"/imports/{PendingImport.objects.get().pk}/",
        "/recurring/",
        "/recurring/new/",
        f"/recurring/{schedule.pk}/",
        f"/recurring/{schedule.pk}/edit/",
        "/rates/",
        "/rates/new/",
        f"/rates/{rate.pk}/edit/",
        f"/rates/{rate.pk}/delete/",
        "/search/?q=a",
        "/settings/",
        "/outbox/",
        f"/outbox/{message.pk}/",
        "/audit/",
        "/account/second-factor/",
        "/api/docs/",
        # The back office too.
        "/admin/",
        "/admin/billing/invoice/",
        "/admin/billing/creditnote/",
        f"/admin/billing/creditnote/{note.pk}/change/",
        f"/admin/billing/invoice/{issued.pk}/change/",
        f"/admin/billing/client/{client.pk}/change/",
        "/admin/auth/user/",
        "/admin/audit/auditrecord/",
        "/admin/rates/exchangerate/",
        f"/admin/rates/exchangerate/{rate.pk}/change/",
    ]


def test_no_office_page_breaks_the_policy_and_live_totals_work(browser_page, live_server, demo):
    page = browser_page
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )

    for path in ("/login/", "/login/forgot/"):
        page.goto(path)
    page.goto("/login/")
    page.fill("input[name=username]", ADMIN)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")

    pages = office_pages()
    for path in pages:
        response = page.goto(path)
        assert response.status == 200, path
        assert "content-security-policy" in response.headers, path
        page.wait_for_load_state("load")
    # The API docs are drawn by their script: it ran.
    page.goto("/api/docs/")
    page.locator(".swagger-ui").first.wait_for()

    # The live totals of the invoice form (static/otb/invoice-form.js) under the policy.
    page.goto("/invoices/new/")
    # The client box offers matching clients, asked of the server as one types.
    client = Client.objects.filter(is_active=True).order_by("code").first()
    page.fill("input[name=client]", client.name[:4])
    option = page.locator(f"datalist#client-choices option[value='{client.code}']")
    option.wait_for(state="attached")
    page.fill("input[name=client]", option.get_attribute("value"))
    page.fill("input[name=lines-0-description]", "Work")
    page.fill("input[name=lines-0-quantity]", "2")
    page.fill("input[name=lines-0-unit_price]", "50")
    page.locator("[data-total=subtotal]").filter(has_text="100.00").wait_for()

    assert violations == [], "\n".join(violations)
    assert len(pages) > 25
