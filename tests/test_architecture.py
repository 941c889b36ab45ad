"""Architecture rules, checked on the syntax trees of the product code (tests/codebase.py).

Two rules:

- No cycles between apps (SPEC): the apps form layers, each importing only the ones below
  it, so each can be read, tested and changed without the ones above. Also no cycle between
  the modules of one app. A lazy import inside a function still counts: it hides a cycle, it
  does not remove it.
- One path for money events (SPEC): the ledger's entries, the clients' stored balances, the
  invoices' outstanding spans and the invoices' amount paid and status are written in one
  place each, reached through one entry point (billing.accounting), so that every money event
  writes all of them, in one transaction, the same way.

The rules are data (ALLOWED, CALLERS below): change them there when the design changes.
No database, no imports of product modules: these run in well under a second.
"""

import ast
from fnmatch import fnmatch

from tests import codebase
from tests.codebase import (
    BALANCE,
    INVOICE_PAYMENT_STATE,
    LEDGER_ENTRY,
    OUTSTANDING_SPAN,
    Import,
)

# --- One path for money events: the rules --------------------------------------------------

# Each kind of money write, and the only modules that may do it (fnmatch patterns on the
# dotted module name). See codebase.money_writes for what counts as each kind.
ALLOWED = {
    LEDGER_ENTRY: {"ledger.journal"},
    BALANCE: {"ledger.journal"},
    OUTSTANDING_SPAN: {"billing.outstanding"},
    INVOICE_PAYMENT_STATE: {"billing.accounting"},
}

# The functions that do those writes, and the only modules that may call them (besides the
# function's own module). Everything else goes through billing.accounting. Deriving every
# invoice's spans again (after a restore, a time-zone change, seeding) is also a maintenance
# task, so a management command may ask for it directly.
MANAGEMENT_COMMANDS = "*.management.commands.*"
CALLERS = {
    "ledger.journal.*": {"billing.accounting"},
    "billing.outstanding.refresh": {"billing.accounting"},
    "billing.outstanding.record_issued": {"billing.accounting"},
    "billing.outstanding.record_issued_many": {"billing.accounting"},
    "billing.outstanding.rebuild": {"billing.accounting", MANAGEMENT_COMMANDS},
    "billing.outstanding.refresh_reversed": {"billing.accounting", MANAGEMENT_COMMANDS},
}

# Code that writes money state outside the one path on purpose, and is not scanned for it:
MONEY_PATH_EXEMPT = {
    # Data migrations write entries, balances and spans with the historical models of their
    # point in the history; they cannot call today's code. (Not product code anyway.)
    "*/migrations/*",
    # The benchmarks fill databases by the million, as fast as they can. (Not product code.)
    "bench/*",
}


def _allowed(module: str, patterns: set[str]) -> bool:
    return any(fnmatch(module, pattern) for pattern in patterns)


def money_path_violations(modules: dict[str, codebase.Module]) -> list[str]:
    """``path:line: what`` for every money write, and every use of an accounting function,
    outside the modules the rules allow."""
    found = []
    for module in modules.values():
        if any(fnmatch(module.path, pattern) for pattern in MONEY_PATH_EXEMPT):
            continue
        for write in codebase.money_writes(module.tree, module.name):
            if not _allowed(module.name, ALLOWED[write.kind]):
                where = " or ".join(sorted(ALLOWED[write.kind]))
                found.append(
                    (module.path, write.line, f"{write.what} [{write.kind}: only in {where}]")
                )
        uses = codebase.restricted_uses(module.tree, module.name, module.is_package, CALLERS)
        for use in uses:
            if not _allowed(module.name, CALLERS[use.kind]):
                where = " or ".join(sorted(CALLERS[use.kind]))
                found.append((module.path, use.line, f"{use.what} [callable only from {where}]"))
    return [f"{path}:{line}: {what}" for path, line, what in sorted(found)]


# --- The architecture tests --------------------------------------------------------------


def test_product_packages_are_listed():
    """Every app (a directory with an apps.py) and the project package is in
    codebase.PRODUCT_PACKAGES, so that the rules below cover it: add a new app there."""
    assert codebase.discover_packages() == set(codebase.PRODUCT_PACKAGES)


def test_no_import_cycles_between_apps():
    """SPEC: no cycles between apps. Each app's modules imported by another app's, collapsed
    to the apps, must form an acyclic graph."""
    modules = codebase.product_modules()
    graph = codebase.app_graph(codebase.import_graph(modules))
    report = codebase.describe_cycles(graph, modules)
    assert not report, "Import cycles between apps:\n" + "\n".join(report)


def test_no_import_cycles_between_modules_of_an_app():
    """SPEC: no cycles between apps, and none inside one either (billing.pdf ->
    billing.services -> billing.pdf): the modules of an app form layers too. A package's
    ``from . import sub`` in its __init__ does not count (see codebase.module_graph)."""
    modules = codebase.product_modules()
    edges = codebase.import_graph(modules)
    report = []
    for app in codebase.PRODUCT_PACKAGES:
        lines = codebase.describe_cycles(codebase.module_graph(edges, app), modules)
        if lines:
            report += [f"in {app}:", *(f"  {line}" for line in lines)]
    assert not report, "Import cycles between modules of one app:\n" + "\n".join(report)


def test_one_path_for_money_events():
    """SPEC: one path for money events. Ledger entries and balances are written only by
    ledger.journal, outstanding spans only by billing.outstanding, invoices' amount paid and
    status only by billing.accounting, and the writers are called only from
    billing.accounting (ALLOWED, CALLERS)."""
    violations = money_path_violations(codebase.product_modules())
    assert not violations, (
        "Money state written (or its writers called) outside the one path:\n"
        + "\n".join(violations)
    )


# --- Unit tests of the cycle detection -----------------------------------------------------


def test_find_cycles_finds_a_cycle():
    graph = codebase.adjacency([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")])
    assert codebase.find_cycles(graph) == [["a", "b", "c"]]
    assert codebase.example_cycles(graph, ["a", "b", "c"]) == [["a", "b", "c"]]


def test_find_cycles_finds_separate_cycles():
    graph = codebase.adjacency([("a", "b"), ("b", "a"), ("b", "c"), ("c", "d"), ("d", "c")])
    assert codebase.find_cycles(graph) == [["a", "b"], ["c", "d"]]


def test_find_cycles_passes_an_acyclic_graph():
    graph = codebase.adjacency([("a", "b"), ("a", "c"), ("b", "c"), ("c", "d")])
    assert codebase.find_cycles(graph) == []


def test_find_cycles_finds_a_self_loop():
    graph = codebase.adjacency([("a", "a"), ("a", "b")])
    assert codebase.find_cycles(graph) == [["a"]]


def test_describe_cycles_names_the_imports_of_each_edge():
    modules = {
        name: codebase.Module(name, f"{name.replace('.', '/')}.py", False, ast.parse(""))
        for name in ("billing.services", "ledger.services", "reports.views")
    }
    edges = [
        Import("billing.services", "ledger.services", 29),
        Import("ledger.services", "billing.services", 12, lazy=True),
        Import("reports.views", "billing.services", 20),
    ]
    report = "\n".join(codebase.describe_cycles(codebase.app_graph(edges), modules))
    assert "cycle 1: billing, ledger depend on each other" in report
    assert "billing -> ledger -> billing" in report
    assert "billing/services.py:29: imports ledger.services" in report
    assert "ledger/services.py:12: imports billing.services (lazy, inside a function)" in report
    assert "reports" not in report


# --- Unit tests of the import reading ------------------------------------------------------

KNOWN = frozenset(
    {
        "billing",
        "billing.models",
        "billing.outstanding",
        "billing.services",
        "billing.views",
        "billing.views.invoices",
        "ledger",
        "ledger.journal",
        "ledger.models",
    }
)


def _imports(source: str, module: str = "billing.services", is_package: bool = False):
    tree = ast.parse(source)
    return {
        (e.target, e.line, e.lazy) for e in codebase.imports_in(tree, module, is_package, KNOWN)
    }


def test_imports_read_top_level_imports_of_both_forms():
    source = "import ledger.models\nfrom billing.models import Invoice\nimport django.db\n"
    assert _imports(source) == {("ledger.models", 1, False), ("billing.models", 2, False)}


def test_a_lazy_import_inside_a_function_is_an_edge():
    source = "def f():\n    from ledger.models import LedgerEntry\n    return LedgerEntry\n"
    assert _imports(source) == {("ledger.models", 2, True)}


def test_a_type_checking_import_is_not_an_edge():
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from ledger.models import LedgerEntry\n"
        "else:\n"
        "    from billing import models\n"
    )
    assert _imports(source) == {("billing.models", 5, False)}


def test_from_package_import_name_is_an_edge_to_the_submodule_or_the_package():
    source = "from ledger import journal\nfrom billing import default_app_config\n"
    assert _imports(source) == {("ledger.journal", 1, False), ("billing", 2, False)}


def test_relative_imports_are_resolved_against_the_package():
    assert _imports("from . import outstanding\nfrom .models import Invoice\n") == {
        ("billing.outstanding", 1, False),
        ("billing.models", 2, False),
    }
    in_views = _imports(
        "from .. import services\nfrom . import refused\n", "billing.views.invoices"
    )
    assert in_views == {("billing.services", 1, False), ("billing.views", 2, False)}
    in_package = _imports("from . import invoices\n", "billing.views", is_package=True)
    assert in_package == {("billing.views.invoices", 1, False)}


def test_an_init_binding_its_own_submodule_is_no_cycle():
    modules = {"billing.views": True, "billing.views.invoices": False}
    sources = {
        "billing.views": "from . import invoices\n",
        "billing.views.invoices": "from . import refused\n",
    }
    edges = [
        edge
        for name, source in sources.items()
        for edge in codebase.imports_in(ast.parse(source), name, modules[name], KNOWN)
    ]
    assert codebase.find_cycles(codebase.adjacency(codebase.module_graph(edges, "billing"))) == []
    # ...but pulling names from the submodule into the __init__ is one.
    edges.append(Import("billing.views", "billing.views.invoices", 2))
    graph = codebase.adjacency(codebase.module_graph(edges, "billing"))
    assert codebase.find_cycles(graph) == [["billing.views", "billing.views.invoices"]]


# --- Unit tests of the money-write detection -----------------------------------------------


def _writes(source: str, module: str = "reports.views") -> list[tuple[str, int]]:
    return [(w.kind, w.line) for w in codebase.money_writes(ast.parse(source), module)]


def test_creating_a_ledger_entry_is_flagged():
    assert _writes("LedgerEntry.objects.create(client=c, amount=a)") == [(LEDGER_ENTRY, 1)]
    assert _writes("entry = LedgerEntry(client=c)\nentry.save()") == [(LEDGER_ENTRY, 1)]
    assert _writes("models.LedgerEntry.objects.bulk_create(rows)") == [(LEDGER_ENTRY, 1)]
    assert _writes("client.ledger_entries.get_or_create(kind=k)") == [(LEDGER_ENTRY, 1)]


def test_reading_ledger_entries_is_not_flagged():
    source = (
        "total = LedgerEntry.objects.filter(client=c).aggregate(s=Sum('amount'))\n"
        "n = LedgerEntry._meta.get_field('memo').max_length\n"
        "rows = models.LedgerEntry.objects.values_list('id')\n"
        "page = ledger_entries(client).filter(id__in=ids)\n"  # a selector, not a manager
    )
    assert _writes(source) == []


def test_outstanding_span_writes_are_flagged():
    source = (
        "OutstandingSpan.objects.filter(invoice_id__in=ids).delete()\n"
        "models.OutstandingSpan.objects.bulk_create(rows)\n"
        "row = models.OutstandingSpan(**piece)\n"
        "OutstandingSpan.objects.filter(month=m).values('balance')\n"  # a read
    )
    assert _writes(source) == [(OUTSTANDING_SPAN, 1), (OUTSTANDING_SPAN, 2), (OUTSTANDING_SPAN, 3)]


def test_balance_writes_are_flagged():
    source = (
        "Client.objects.filter(pk=1).update(balance=F('balance') + 1)\n"
        "client.balance = 0\n"
        "client.balance += amount\n"
        "Account.objects.get_or_create(client=c)\n"
        "invoice.balance_at = span.balance\n"  # not a stored balance
    )
    assert _writes(source) == [(BALANCE, 1), (BALANCE, 2), (BALANCE, 3), (BALANCE, 4)]


def test_setting_amount_paid_is_flagged():
    assert _writes("x.amount_paid = 1") == [(INVOICE_PAYMENT_STATE, 1)]
    assert _writes("setattr(invoice, 'amount_paid', paid)") == [(INVOICE_PAYMENT_STATE, 1)]
    assert _writes("Invoice.objects.filter(pk=1).update(amount_paid=0)") == [
        (INVOICE_PAYMENT_STATE, 1)
    ]


def test_invoice_status_writes_are_flagged():
    assert _writes("invoice.status = derive_status(invoice)", "billing.services") == [
        (INVOICE_PAYMENT_STATE, 1)
    ]
    assert _writes("inv.status = InvoiceStatus.PAID") == [(INVOICE_PAYMENT_STATE, 1)]
    assert _writes("Invoice.objects.overdue().update(status=InvoiceStatus.OVERDUE)") == [
        (INVOICE_PAYMENT_STATE, 1)
    ]
    assert _writes("invoice.save(update_fields=['amount_paid', 'status'])") == [
        (INVOICE_PAYMENT_STATE, 1)
    ]
    assert _writes("invoice.save(update_fields=['status'])") == [(INVOICE_PAYMENT_STATE, 1)]
    # Outside billing, a status whose value says nothing about invoices is someone else's.
    assert _writes("thing.status = derive(thing)") == []


def test_payment_and_message_statuses_are_not_flagged():
    source = (
        "payment.status = PaymentStatus.REVERSED\n"
        "payment.save(update_fields=['status', 'reversed_at'])\n"
        "Payment.objects.filter(invoice=invoice).update(status=PaymentStatus.CONFIRMED)\n"
        "message.status = MessageStatus.SENT\n"
        "self.payment.status = derive_status(self)\n"
    )
    assert _writes(source, "billing.services") == []


# --- Unit tests of the caller detection ----------------------------------------------------


def _uses(source: str, module: str = "billing.services") -> list[tuple[str, int]]:
    tree = ast.parse(source)
    return [(u.what, u.line) for u in codebase.restricted_uses(tree, module, False, CALLERS)]


def test_calls_through_an_imported_module_are_found():
    source = "from ledger import journal\n\ndef f():\n    journal.append(entry)\n"
    assert _uses(source) == [("uses ledger.journal.append", 4)]


def test_calls_of_an_imported_function_are_found():
    source = "from ledger.journal import append as post\npost(x)\nimport ledger.journal\n"
    source += "ledger.journal.append(y)\n"
    assert _uses(source) == [("uses ledger.journal.append", 2), ("uses ledger.journal.append", 4)]


def test_a_module_using_its_own_functions_is_not_flagged():
    source = "from billing.outstanding import refresh\nrefresh(1)\n"
    assert _uses(source, "billing.outstanding") == []
    assert _uses(source, "billing.services") == [("uses billing.outstanding.refresh", 2)]


def test_relative_and_lazy_imports_of_the_span_writers_are_found():
    source = (
        "from . import outstanding\n"
        "outstanding.refresh(pk)\n"
        "outstanding.load(models, ids)\n"  # not a writer
        "def f():\n"
        "    from billing.outstanding import refresh_reversed\n"
        "    refresh_reversed()\n"
    )
    assert _uses(source) == [
        ("uses billing.outstanding.refresh", 2),
        ("uses billing.outstanding.refresh_reversed", 6),
    ]


def test_money_path_violations_respect_the_allowed_callers():
    def module(name, source):
        path = name.replace(".", "/") + ".py"
        return name, codebase.Module(name, path, False, ast.parse(source))

    modules = dict(
        [
            module("billing.accounting", "from billing import outstanding\noutstanding.refresh(1)"),
            module(
                "billing.management.commands.rebuild_outstanding",
                "from billing import outstanding\noutstanding.rebuild()",
            ),
            module("billing.outstanding", "OutstandingSpan.objects.all().delete()"),
            module(
                "ledger.journal", "LedgerEntry.objects.create()\nClient.objects.update(balance=0)"
            ),
            module("api.views", "from billing import outstanding\noutstanding.rebuild()"),
        ]
    )
    assert money_path_violations(modules) == [
        "api/views.py:2: uses billing.outstanding.rebuild "
        "[callable only from *.management.commands.* or billing.accounting]"
    ]


def test_no_back_office_list_truncates_a_time_in_the_database():
    """date_hierarchy on a DateTimeField makes MariaDB convert time zones by name, which fails
    on a server whose time zone tables were never loaded: the page would answer 500 there."""
    from django.contrib import admin
    from django.db import models

    offenders = [
        f"{model._meta.label}.{model_admin.date_hierarchy}"
        for model, model_admin in admin.site._registry.items()
        if model_admin.date_hierarchy
        and isinstance(model._meta.get_field(model_admin.date_hierarchy), models.DateTimeField)
    ]
    assert offenders == []
