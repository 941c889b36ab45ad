"""Back-office writes are retried on a deadlock like every other write (SPEC: Scale).

Django's admin wraps a saving add, change or delete page in a transaction of its own; an
operation called inside it would be a savepoint, which ``@operation`` never retries. These
tests show that each page's operation is the outermost transaction, that a deadlock on
MariaDB (a real one, InnoDB error 1213) is retried and the page still succeeds with its change
made exactly once, and that a write still deadlocked after every attempt is a message on the
page, not a server error.

Transactional tests: inside pytest-django's usual test transaction every block would be
nested, and the deadlock needs a second connection that sees the committed rows.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.db import OperationalError, connection, transaction
from django.urls import reverse

import settings_app.admin
from billing import services
from billing.admin import InvoiceAdmin
from billing.models import Client, Invoice, InvoiceNumberCounter, Payment
from billing.services import COUNTER_NAME, locking
from ledger.models import EntryKind, LedgerEntry
from otb.admin import BUSY_MESSAGE, OperationAdmin
from settings_app.selectors import get_business_settings
from tests.factories import ClientFactory, draft, issued

from .admin_forms import form_data

D = Decimal
pytestmark = pytest.mark.django_db(transaction=True)
TIMEOUT = 30  # seconds; only ever an upper bound on waiting for the other transaction


@pytest.fixture
def office(client, migration_rows, administrator, business):
    client.force_login(administrator)
    return client


@pytest.fixture
def acme(office):
    return ClientFactory(code="ACME", name="Acme Ltd")


def history(obj, action_flag) -> int:
    """How many lines of the admin's history say ``obj`` was added, changed or deleted."""
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        action_flag=action_flag,
    ).count()


def page_messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def assert_succeeded(response):
    assert response.status_code == 302, response.content.decode()[:3000]
    assert BUSY_MESSAGE not in page_messages(response)


# --- The pages --------------------------------------------------------------------------
# One class per way the back office writes. ``prepare`` reads the page the way a browser
# would (before anything is patched), ``submit`` saves, ``check`` says the change is there
# exactly once. ``operation`` names what the page calls, to be watched.
class Page:
    operation: tuple[object, str]
    locks_a_client = True  # takes its client's row through locking.lock_clients

    def prepare(self, office, acme): ...

    def submit(self, office): ...

    def check(self): ...

    def observe(self, monkeypatch) -> list[bool]:
        """Wrap the page's operation; the list gets, for each call, whether an atomic block
        was already open when it was entered."""
        target, name = self.operation
        seen: list[bool] = []
        original = getattr(target, name)

        def entered(*args, **kwargs):
            seen.append(transaction.get_connection().in_atomic_block)
            return original(*args, **kwargs)

        self._replace(monkeypatch, target, name, entered)
        return seen

    def _replace(self, monkeypatch, target, name, value):
        monkeypatch.setattr(target, name, value)


class ClientChangeForm(Page):
    operation = (services, "update_client")

    def prepare(self, office, acme):
        self.acme = acme
        self.url = reverse("admin:billing_client_change", args=[acme.pk])
        self.data = {**form_data(office.get(self.url)), "name": "Acme Renamed Ltd"}

    def submit(self, office):
        return office.post(self.url, self.data)

    def check(self):
        assert Client.objects.get(pk=self.acme.pk).name == "Acme Renamed Ltd"
        assert history(self.acme, CHANGE) == 1


class ClientAddForm(Page):
    operation = (services, "create_client")
    locks_a_client = False

    def prepare(self, office, acme):
        self.url = reverse("admin:billing_client_add")
        self.data = form_data(office.get(self.url))
        self.data.update(code="MAPLE", name="Maple Ltd", country="CA", default_currency="CAD")

    def submit(self, office):
        return office.post(self.url, self.data)

    def check(self):
        maple = Client.objects.get(code="MAPLE")
        assert history(maple, ADDITION) == 1


class ClientDeletePage(Page):
    """A client entered by mistake, deleted by its operation (delete_client)."""

    operation = (services, "delete_client")
    locks_a_client = False

    def prepare(self, office, acme):
        self.gone = ClientFactory(code="GONE")
        self.url = reverse("admin:billing_client_delete", args=[self.gone.pk])

    def submit(self, office):
        return office.post(self.url, {"post": "yes"})

    def check(self):
        assert not Client.objects.filter(pk=self.gone.pk).exists()
        assert history(self.gone, DELETION) == 1


class InvoiceChangeForm(Page):
    """Saved with its lines by one operation, called from save_related."""

    operation = (services, "update_invoice")

    def prepare(self, office, acme):
        self.invoice = draft(client=acme)
        self.url = reverse("admin:billing_invoice_change", args=[self.invoice.pk])
        self.data = {**form_data(office.get(self.url)), "lines-0-quantity": "2"}

    def submit(self, office):
        return office.post(self.url, self.data)

    def check(self):
        self.invoice.refresh_from_db()
        assert self.invoice.total == D("226.00")
        assert [line.quantity for line in self.invoice.lines.all()] == [D("2")]
        assert history(self.invoice, CHANGE) == 1


class InvoiceDeletePage(Page):
    operation = (services, "delete_draft")

    def prepare(self, office, acme):
        self.invoice = draft(client=acme)
        self.url = reverse("admin:billing_invoice_delete", args=[self.invoice.pk])

    def submit(self, office):
        return office.post(self.url, {"post": "yes"})

    def check(self):
        assert not Invoice.objects.filter(pk=self.invoice.pk).exists()
        assert history(self.invoice, DELETION) == 1


class IssueAction(Page):
    """A changelist action: Django never opened a transaction around those."""

    operation = (services, "issue_invoice")

    def prepare(self, office, acme):
        self.invoice = draft(client=acme)

    def submit(self, office):
        return office.post(
            reverse("admin:billing_invoice_changelist"),
            {"action": "issue_selected", "_selected_action": [self.invoice.pk]},
        )

    def check(self):
        self.invoice.refresh_from_db()
        assert self.invoice.number == "INV-0001"
        assert InvoiceNumberCounter.objects.get(name=COUNTER_NAME).last_number == 1
        issued_entries = LedgerEntry.objects.filter(kind=EntryKind.INVOICE_ISSUED)
        assert list(issued_entries.values_list("invoice_id", flat=True)) == [self.invoice.pk]


class IssueButton(IssueAction):
    """An object action (billing.admin.ObjectActionsMixin): a view of its own, no
    transaction around it either."""

    def submit(self, office):
        url = reverse("admin:billing_invoice_issue", args=[self.invoice.pk])
        return office.post(url, {"issue_date": "2026-03-01", "due_date": ""})

    def observe(self, monkeypatch):
        (action,) = [a for a in InvoiceAdmin.object_actions if a.name == "issue"]
        self.operation = (action, "operation")
        return super().observe(monkeypatch)

    def _replace(self, monkeypatch, target, name, value):
        # A frozen dataclass, whose URL kept it: its field is replaced where it is stored.
        monkeypatch.setitem(target.__dict__, name, value)


class PaymentAddForm(Page):
    operation = (services, "record_payment")

    def prepare(self, office, acme):
        self.invoice = issued(client=acme)
        self.url = reverse("admin:billing_payment_add")
        self.data = {
            **form_data(office.get(f"{self.url}?invoice={self.invoice.pk}")),
            "invoice": str(self.invoice.pk),
            "amount": "40.00",
        }

    def submit(self, office):
        return office.post(self.url, self.data)

    def check(self):
        payment = Payment.objects.get(invoice=self.invoice)
        assert payment.amount == D("40.00")
        confirmed = LedgerEntry.objects.filter(kind=EntryKind.PAYMENT_CONFIRMED)
        assert list(confirmed.values_list("payment_id", flat=True)) == [payment.pk]
        self.invoice.refresh_from_db()
        assert self.invoice.amount_paid == D("40.00")
        assert history(payment, ADDITION) == 1


class ManualCreditForm(Page):
    operation = (services, "post_manual_credit")

    def prepare(self, office, acme):
        self.acme = acme
        self.url = reverse("admin:ledger_ledgerentry_add")
        self.data = {
            "client": str(acme.pk),
            "kind": EntryKind.MANUAL_CREDIT,
            "amount": "25.00",
            "memo": "Goodwill",
            "date": "2026-03-01",
        }

    def submit(self, office):
        return office.post(self.url, self.data)

    def check(self):
        (entry,) = LedgerEntry.objects.filter(client=self.acme, kind=EntryKind.MANUAL_CREDIT)
        assert entry.amount == D("25.00")
        assert history(entry, ADDITION) == 1


class SettingsForm(Page):
    operation = (settings_app.admin, "update_business_settings")
    locks_a_client = False

    def prepare(self, office, acme):
        self.url = reverse(
            "admin:settings_app_businesssettings_change", args=[get_business_settings().pk]
        )
        self.data = {**form_data(office.get(self.url)), "business_name": "Renamed Ltd"}

    def submit(self, office):
        return office.post(self.url, self.data)

    def check(self):
        assert get_business_settings().business_name == "Renamed Ltd"


PAGES = [
    ClientChangeForm,
    ClientAddForm,
    ClientDeletePage,
    InvoiceChangeForm,
    InvoiceDeletePage,
    IssueAction,
    IssueButton,
    PaymentAddForm,
    ManualCreditForm,
    SettingsForm,
]
LOCKING_PAGES = [page for page in PAGES if page.locks_a_client]


def by_name(page):
    return page.__name__


# --- Every page's operation is the outermost transaction -----------------------------------
@pytest.mark.parametrize("page_class", PAGES, ids=by_name)
def test_each_back_office_write_runs_its_operation_as_the_outermost_transaction(
    office, acme, monkeypatch, page_class
):
    page = page_class()
    page.prepare(office, acme)
    enclosed = page.observe(monkeypatch)

    assert_succeeded(page.submit(office))

    assert enclosed == [False], "the operation ran inside a transaction the admin opened"
    page.check()


# --- Still deadlocked after every attempt --------------------------------------------------
@pytest.fixture
def deadlock_every_attempt(monkeypatch, settings):
    """Call it once the page is prepared: from then on every attempt of an operation that
    locks a client fails as a deadlock would, once it asked for the lock. It returns the
    list that counts the attempts."""

    def arm():
        settings.OTB_WRITE_ATTEMPTS = 3
        attempts = []

        def deadlocked(client_ids):
            attempts.append(client_ids)
            raise OperationalError(1213, "Deadlock found when trying to get lock")

        monkeypatch.setattr(locking, "lock_clients", deadlocked)
        return attempts

    return arm


def test_change_form_still_deadlocked_after_every_attempt_shows_busy_and_keeps_the_input(
    office, acme, deadlock_every_attempt
):
    page = ClientChangeForm()
    page.prepare(office, acme)
    attempts = deadlock_every_attempt()

    response = page.submit(office)

    assert response.status_code == 200
    assert BUSY_MESSAGE in response.content.decode()
    assert "Acme Renamed Ltd" in response.content.decode()  # what the user typed
    assert len(attempts) == 3  # retried as a whole, not once inside the admin's transaction
    assert Client.objects.get(pk=acme.pk).name == "Acme Ltd"
    assert history(acme, CHANGE) == 0


def test_delete_still_deadlocked_after_every_attempt_shows_busy_and_logs_no_deletion(
    office, acme, deadlock_every_attempt
):
    page = InvoiceDeletePage()
    page.prepare(office, acme)
    attempts = deadlock_every_attempt()

    response = page.submit(office)

    assert response.status_code == 302
    assert response["Location"] == page.url  # the delete page again, to confirm again
    assert BUSY_MESSAGE in page_messages(response)
    assert len(attempts) == 3
    assert Invoice.objects.filter(pk=page.invoice.pk).exists()
    assert history(page.invoice, DELETION) == 0


# --- Nothing written outside the operation ---------------------------------------------------
def test_pages_on_djangos_save_related_have_no_related_rows_to_write(rf):
    """Django's save_related writes many-to-many fields and inline rows after save_model,
    outside its operation; a page that had any would be half saved when that failed."""

    class Superuser:
        is_active = is_staff = is_superuser = True

        def has_perm(self, perm, obj=None):
            return True

    request = rf.post("/")
    request.user = Superuser()
    checked = []
    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, OperationAdmin):
            continue
        if type(model_admin).save_related is not ModelAdmin.save_related:
            # Saves what it has through its operation (InvoiceAdmin; a client's taxes).
            checked.append(model)
            continue
        assert not model._meta.many_to_many, model
        if not model_admin.has_change_permission(request) and not (
            model_admin.has_add_permission(request)
        ):
            continue  # never saved through a form (outbox messages)
        for inline in model_admin.get_inline_instances(request):
            assert not inline.has_add_permission(request, None), inline
            assert not inline.has_change_permission(request, None), inline
            assert not (inline.can_delete and inline.has_delete_permission(request, None)), inline
        checked.append(model)
    assert Client in checked and Payment in checked


# --- A real deadlock on MariaDB ------------------------------------------------------------
class ForcedDeadlock:
    """A deadlock between a page's operation and another transaction, on the first attempt.

    The other transaction (a thread, its own connection) updates the bystander clients,
    then waits for the row of the operation's client. The operation, once it holds that row
    (the first locking.lock_clients it makes), asks for a bystander's row. Each waits for
    the other; InnoDB breaks the cycle by rolling back the transaction that changed fewer
    rows, the operation's, with error 1213. The other one then gets the row, and rolls back.
    """

    def __init__(self, acme, bystanders):
        self.acme_pk = acme.pk
        self.bystander_pks = [bystander.pk for bystander in bystanders]
        self.ready = threading.Event()
        self.operation_holds_acme = threading.Event()
        self.other_got_acme = threading.Event()
        self.other_thread_id = None
        self.other_errors: list[BaseException] = []
        self.operation_errors: list[int] = []
        self.armed = True
        self.thread = threading.Thread(target=self._other_transaction, daemon=True)

    def start(self):
        self.thread.start()
        assert self.ready.wait(TIMEOUT), self.other_errors or "the other transaction never began"

    def finish(self):
        self.operation_holds_acme.set()  # releases the thread if the operation never came
        self.thread.join(TIMEOUT)
        assert not self.thread.is_alive(), "the other transaction never ended"

    def _other_transaction(self):
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT CONNECTION_ID()")
                    self.other_thread_id = cursor.fetchone()[0]
                # Many changed rows: the heavier transaction, which InnoDB keeps.
                Client.objects.filter(pk__in=self.bystander_pks).update(notes="held")
                self.ready.set()
                if not self.operation_holds_acme.wait(TIMEOUT):
                    raise AssertionError("the operation never took its client's row")
                list(Client.objects.select_for_update().filter(pk=self.acme_pk))
                self.other_got_acme.set()
                transaction.set_rollback(True)  # only its locks mattered
        except BaseException as exc:
            self.other_errors.append(exc)
        finally:
            connection.close()

    def hook(self, original):
        def lock_clients(client_ids):
            clients = original(client_ids)
            if self.armed:
                self.armed = False
                assert self.acme_pk in [client.pk for client in clients]
                self.operation_holds_acme.set()
                self._wait_until_the_other_waits_for_acme()
                try:
                    list(Client.objects.select_for_update().filter(pk=self.bystander_pks[0]))
                except OperationalError as exc:
                    self.operation_errors.append(exc.args[0])
                    raise
            return clients

        return lock_clients

    def _wait_until_the_other_waits_for_acme(self):
        deadline = time.monotonic() + TIMEOUT
        # Between two looks: InnoDB refreshes what INNODB_TRX shows only when it was last
        # read more than 0.1 s ago, so looking more often would keep showing the old state.
        pause = threading.Event()  # never set
        while time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT trx_state FROM information_schema.INNODB_TRX"
                    " WHERE trx_mysql_thread_id = %s",
                    [self.other_thread_id],
                )
                row = cursor.fetchone()
            if row and row[0] == "LOCK WAIT":
                return
            assert not self.other_errors, self.other_errors
            pause.wait(0.15)
        raise AssertionError("the other transaction never waited for the client's row")


@pytest.mark.parametrize("page_class", LOCKING_PAGES, ids=by_name)
def test_back_office_write_that_deadlocks_is_retried_and_saved_once(
    office, acme, monkeypatch, page_class
):
    """The change form, delete and add pages fail without the fix (the admin's transaction
    made the operation a savepoint: busy message, or a server error on delete); the action
    and the button were never inside one, and show the retry works for them too."""
    if connection.vendor != "mysql":
        pytest.skip("SQLite has no row locks to deadlock on: it locks the whole database")
    page = page_class()
    page.prepare(office, acme)
    bystanders = ClientFactory.create_batch(20)
    deadlock = ForcedDeadlock(acme, bystanders)
    monkeypatch.setattr(locking, "lock_clients", deadlock.hook(locking.lock_clients))

    deadlock.start()
    try:
        response = page.submit(office)
    finally:
        deadlock.finish()

    assert deadlock.other_errors == []
    assert deadlock.operation_errors == [1213], "the operation was not the deadlock's victim"
    assert deadlock.other_got_acme.is_set()
    assert_succeeded(response)
    page.check()
    assert not Client.objects.filter(notes="held").exists()  # the other rolled back
