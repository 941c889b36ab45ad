"""The product code as syntax trees, for the architecture tests (tests/test_architecture.py).

Nothing here imports a product module: every file is read and parsed with ``ast``, so the
checks need no database and no Django set-up, and they see code that is never run by a test
(management commands, lazy imports inside functions).

What is read from the trees:

- the imports of each module (``imports_in``), for the rule "no cycles between apps";
- the writes of money state (``money_writes``) and the uses of the functions that do them
  (``restricted_uses``), for the rule "one path for money events".

The money checks are heuristics on syntax, documented where they are made. They see Python,
not SQL: rows written with raw SQL (``cursor.execute``) are invisible to them.
"""

from __future__ import annotations

import ast
import functools
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The top-level packages whose modules are product code: every Django app (a directory with
# an apps.py) and the project package. Written out, not only scanned, so that a new app is
# added here deliberately; test_product_packages_are_listed compares it with the scan.
PRODUCT_PACKAGES = (
    "accounts",
    "audit",
    "api",
    "billing",
    "exports",
    "imports",
    "ledger",
    "links",
    "maintenance",
    "otb",
    "outbox",
    "portal",
    "quotes",
    "recurring",
    "rates",
    "reports",
    "settings_app",
)

# The project package: settings, URLs, and what every app shares (operations, paging).
# (bench/ has settings of its own, but is the benchmarks, not product code.)
PROJECT_PACKAGE = "otb"

# The project's composition root: the URL configuration, the settings and the WSGI/ASGI
# entry points import (or name) every app by design, to put the apps together. They sit above
# the apps, not among them, so they are no part of the product code the rules are about.
COMPOSITION_ROOTS = frozenset(
    {
        "otb/urls.py",
        "otb/settings.py",
        "otb/settings_test.py",
        "otb/wsgi.py",
        "otb/asgi.py",
    }
)

# Never product code: the apps' tests, their migrations (historical models, data migrations
# that write derived rows on purpose) and pytest's conftest files.
EXCLUDED_DIRECTORIES = frozenset({"tests", "migrations"})
EXCLUDED_FILE_NAMES = frozenset({"conftest.py"})


@dataclass(frozen=True)
class Module:
    """One product module: its dotted name, its file (relative to ROOT) and its tree."""

    name: str
    path: str
    is_package: bool  # an __init__.py
    tree: ast.Module


def discover_packages(root: Path = ROOT) -> set[str]:
    """The top-level directories that are apps (they have an apps.py), and the project
    package."""
    found = {PROJECT_PACKAGE}
    for child in root.iterdir():
        if child.is_dir() and not child.name.startswith(".") and (child / "apps.py").is_file():
            found.add(child.name)
    return found


def module_name(path: str) -> str:
    """``billing/views/__init__.py`` -> ``billing.views``; ``billing/pdf.py`` -> ``billing.pdf``."""
    parts = path[: -len(".py")].split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _python_files(root: Path, packages: Iterable[str]) -> Iterator[str]:
    for package in packages:
        for file in sorted((root / package).rglob("*.py")):
            yield file.relative_to(root).as_posix()


def is_product_path(path: str) -> bool:
    """Whether a file (relative to ROOT) is product code; see the constants above."""
    parts = path.split("/")
    if path in COMPOSITION_ROOTS or parts[-1] in EXCLUDED_FILE_NAMES:
        return False
    return not EXCLUDED_DIRECTORIES.intersection(parts[:-1])


@functools.cache
def all_module_names(root: Path = ROOT) -> frozenset[str]:
    """Every module file in the product packages, excluded ones too: imports are resolved
    against these (``from otb import urls`` names the module otb.urls, not the package)."""
    return frozenset(module_name(path) for path in _python_files(root, PRODUCT_PACKAGES))


@functools.cache
def product_modules(root: Path = ROOT) -> dict[str, Module]:
    """Every product module by name, parsed."""
    modules = {}
    for path in _python_files(root, PRODUCT_PACKAGES):
        if not is_product_path(path):
            continue
        tree = ast.parse((root / path).read_text(encoding="utf-8"), filename=path)
        name = module_name(path)
        modules[name] = Module(name, path, path.endswith("/__init__.py"), tree)
    return modules


# --- Imports -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    """One import of one module by another, as written at ``line``.

    ``lazy``: inside a function, so it runs only when the function does; it still makes the
    dependency (a lazy import hides a cycle, it does not remove it).

    ``reexport``: a package's ``__init__`` binding one of its own submodules with
    ``from . import sub`` (or ``from pkg import sub``). See ``module_graph`` for why such an
    edge is not part of a cycle.
    """

    importer: str
    target: str
    line: int
    lazy: bool = False
    reexport: bool = False


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _package_of(module: str, is_package: bool, level: int) -> str:
    """The package a relative import of ``level`` dots starts from."""
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)]
    return ".".join(parts)


@dataclass(frozen=True)
class _Binding:
    """One name bound by an import statement. ``source`` is the module named after ``import``
    or ``from`` (relative ones resolved), ``name`` the name taken from it (``from`` only),
    ``bound`` the name the module can use and ``stands_for`` the dotted name it means."""

    node: ast.Import | ast.ImportFrom
    lazy: bool
    source: str
    name: str | None
    bound: str | None
    stands_for: str | None


class _ImportCollector(ast.NodeVisitor):
    """Every import statement of a module, at any depth, except under ``if TYPE_CHECKING:``
    (type-only imports never run): one _Binding per imported name."""

    def __init__(self, module: str, is_package: bool):
        self.module = module
        self.is_package = is_package
        self.depth = 0  # functions entered
        self.found: list[_Binding] = []

    def _function(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_If(self, node: ast.If):
        if _is_type_checking(node.test):
            for statement in node.orelse:
                self.visit(statement)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import):
        lazy = self.depth > 0
        for alias in node.names:
            if alias.asname:  # import a.b as x: x means a.b
                bound, stands_for = alias.asname, alias.name
            else:  # import a.b: a means a
                bound = stands_for = alias.name.split(".")[0]
            self.found.append(_Binding(node, lazy, alias.name, None, bound, stands_for))

    def visit_ImportFrom(self, node: ast.ImportFrom):
        lazy = self.depth > 0
        source = node.module or ""
        if node.level:
            base = _package_of(self.module, self.is_package, node.level)
            source = ".".join(part for part in (base, node.module) if part)
        for alias in node.names:
            if alias.name == "*":
                self.found.append(_Binding(node, lazy, source, None, None, None))
            else:
                bound = alias.asname or alias.name
                stands_for = f"{source}.{alias.name}"
                self.found.append(_Binding(node, lazy, source, alias.name, bound, stands_for))


def _collect(tree: ast.AST, module: str, is_package: bool) -> list[_Binding]:
    collector = _ImportCollector(module, is_package)
    collector.visit(tree)
    return collector.found


def _resolve(name: str, known: frozenset[str]) -> str | None:
    """The known module a dotted name refers to: itself, else its longest known prefix."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            return candidate
        parts.pop()
    return None


def imports_in(tree: ast.AST, module: str, is_package: bool, known: frozenset[str]) -> list[Import]:
    """The imports of one module that name a module in ``known``.

    ``import x.y`` is an edge to x.y (not to the packages above it: their ``__init__`` runs,
    but what the importer wants is x.y). ``from x.y import z`` is an edge to x.y.z when that
    is a module file, else to x.y. Relative imports are resolved against the module's package.
    Imports inside functions count (marked lazy); those under ``if TYPE_CHECKING:`` do not.
    A module naming itself is no dependency and is left out. One statement importing several
    names from one module is one edge.
    """
    found = []
    for binding in _collect(tree, module, is_package):
        submodule = f"{binding.source}.{binding.name}" if binding.name else None
        reexport = False
        if submodule in known:
            target = submodule
            # ``from . import sub`` in pkg/__init__.py: the package binds its own submodule.
            reexport = is_package and binding.source == module
        else:
            target = _resolve(binding.source, known)
        edge = Import(module, target, binding.node.lineno, binding.lazy, reexport)
        if target is not None and target != module and edge not in found:  # once a statement
            found.append(edge)
    return found


def bindings(tree: ast.AST, module: str, is_package: bool) -> dict[str, str]:
    """Name bound by an import -> the dotted name it stands for, e.g. ``from ledger import
    journal`` gives {"journal": "ledger.journal"}, ``from ledger.journal import append as a``
    gives {"a": "ledger.journal.append"}, ``import ledger.journal`` gives {"ledger": "ledger"}.
    One map per module: a name imported in one function is taken to mean the same everywhere
    in that module (a heuristic; shadowing is not followed)."""
    return {
        binding.bound: binding.stands_for
        for binding in _collect(tree, module, is_package)
        if binding.bound and binding.stands_for
    }


def import_graph(modules: dict[str, Module], root: Path = ROOT) -> list[Import]:
    """Every import between two product modules."""
    known = all_module_names(root)
    found = []
    for module in modules.values():
        for edge in imports_in(module.tree, module.name, module.is_package, known):
            if edge.target in modules:
                found.append(edge)
    return found


def app_graph(edges: Iterable[Import]) -> dict[tuple[str, str], list[Import]]:
    """The imports collapsed to their apps (the top-level package): (importer app, imported
    app) -> the imports that make that edge. Imports within one app are left out."""
    graph: dict[tuple[str, str], list[Import]] = {}
    for edge in edges:
        source, target = edge.importer.split(".")[0], edge.target.split(".")[0]
        if source != target:
            graph.setdefault((source, target), []).append(edge)
    return graph


def module_graph(edges: Iterable[Import], app: str) -> dict[tuple[str, str], list[Import]]:
    """The imports between the modules of one app: (importer, imported) -> imports.

    Left out: a package ``__init__`` binding its own submodule with ``from . import sub``.
    Python initialises a package before any of its submodules, so every submodule already
    depends on its package; such an import only makes the submodule an attribute of the
    package (a namespace) and reads none of its names. Counting it would turn every submodule
    that uses a name of its package into a "cycle" without any layering problem. A real cycle
    is one where both sides need the other's names: ``from .sub import name`` in the
    ``__init__`` (it counts) together with the submodule importing from the package, or any
    loop between sibling modules.
    """
    graph: dict[tuple[str, str], list[Import]] = {}
    for edge in edges:
        if edge.reexport:
            continue
        if edge.importer.split(".")[0] == app and edge.target.split(".")[0] == app:
            graph.setdefault((edge.importer, edge.target), []).append(edge)
    return graph


# --- Cycles ------------------------------------------------------------------------------


def adjacency(edges: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for source, target in edges:
        graph.setdefault(source, set()).add(target)
        graph.setdefault(target, set())
    return graph


def strongly_connected_components(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the graph's strongly connected components, each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of nodes that lie on a cycle: components of more than one node, and nodes
    with an edge to themselves. Empty for an acyclic graph."""
    return sorted(
        component
        for component in strongly_connected_components(graph)
        if len(component) > 1 or component[0] in graph.get(component[0], ())
    )


def shortest_cycle_through(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """The shortest path start -> ... -> start (breadth first), as its nodes, start first."""
    came_from: dict[str, str] = {}
    queue = deque([start])
    seen = {start}
    while queue:
        node = queue.popleft()
        for successor in sorted(graph.get(node, ())):
            if successor == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return path[::-1]
            if successor not in seen:
                seen.add(successor)
                came_from[successor] = node
                queue.append(successor)
    return None


def example_cycles(graph: dict[str, set[str]], component: list[str]) -> list[list[str]]:
    """One shortest cycle through each member of a component, without repeats."""
    inside = {node: graph.get(node, set()) & set(component) for node in component}
    found: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    for node in component:
        cycle = shortest_cycle_through(inside, node)
        if cycle is None:
            continue
        turn = cycle.index(min(cycle))
        key = tuple(cycle[turn:] + cycle[:turn])
        if key not in seen:
            seen.add(key)
            found.append(list(key))
    return found


def describe_cycles(
    graph: dict[tuple[str, str], list[Import]], modules: dict[str, Module]
) -> list[str]:
    """A report of every cycle of ``graph``: for each group of nodes that depend on each
    other, example cycles, then every edge inside the group with the file and line of each
    import making it. Empty when there is no cycle."""
    nodes = adjacency(graph)
    lines: list[str] = []
    for number, component in enumerate(find_cycles(nodes), 1):
        lines.append(f"cycle {number}: {', '.join(component)} depend on each other")
        for cycle in example_cycles(nodes, component):
            lines.append(f"  e.g. {' -> '.join([*cycle, cycle[0]])}")
        lines.append("  edges inside it (remove enough of them to break every loop):")
        members = set(component)
        for (source, target), imports in sorted(graph.items()):
            if source in members and target in members:
                lines.append(f"    {source} -> {target}:")
                for edge in sorted(imports, key=lambda e: (e.importer, e.line)):
                    lazy = " (lazy, inside a function)" if edge.lazy else ""
                    path = modules[edge.importer].path
                    lines.append(f"      {path}:{edge.line}: imports {edge.target}{lazy}")
    return lines


# --- Money writes ------------------------------------------------------------------------

# The kinds of money writes, the keys of test_architecture.ALLOWED.
LEDGER_ENTRY = "LedgerEntry creation"
BALANCE = "stored balance write"
OUTSTANDING_SPAN = "OutstandingSpan write"
INVOICE_PAYMENT_STATE = "invoice amount_paid/status write"

# Names that stand for a model's rows in an expression: the class, or a related manager.
# (A call of a related manager's name is a function of its own, not a new row.)
LEDGER_ENTRY_CLASS, LEDGER_ENTRY_NAMES = "LedgerEntry", frozenset({"LedgerEntry", "ledger_entries"})
SPAN_CLASS, SPAN_NAMES = "OutstandingSpan", frozenset({"OutstandingSpan"})
ACCOUNT_CLASS, ACCOUNT_NAMES = "Account", frozenset({"Account"})  # the ledger's balances
INVOICE_NAMES = re.compile(r"invoice", re.IGNORECASE)  # Invoice, invoices, self.invoice...
NOT_AN_INVOICE = re.compile(r"payment|message", re.IGNORECASE)
# Status enums whose values are a payment's or a message's own lifecycle, not an invoice's.
OTHER_STATUSES = frozenset({"PaymentStatus", "MessageStatus", "CreditNoteStatus"})

CREATE_METHODS = frozenset({"create", "bulk_create", "get_or_create", "update_or_create"})
WRITE_METHODS = CREATE_METHODS | {"update", "bulk_update", "delete"}


@dataclass(frozen=True)
class Finding:
    """One money write (or use of an accounting function) at ``line``: what it is, in words."""

    kind: str
    line: int
    what: str


def _chain_names(expr: ast.expr) -> list[str]:
    """The names along an attribute/call chain, arguments left out:
    ``models.OutstandingSpan.objects.filter(x=1)`` -> [filter, objects, OutstandingSpan,
    models]."""
    names = []
    while True:
        if isinstance(expr, ast.Attribute):
            names.append(expr.attr)
            expr = expr.value
        elif isinstance(expr, ast.Call):
            expr = expr.func
        elif isinstance(expr, ast.Subscript):
            expr = expr.value
        elif isinstance(expr, ast.Name):
            names.append(expr.id)
            return names
        else:
            return names


def _short(expr: ast.expr) -> str:
    """An expression for a message: ``Client.objects.filter(...).update``."""
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        return f"{_short(expr.value)}.{expr.attr}"
    if isinstance(expr, ast.Call):
        return f"{_short(expr.func)}({'...' if expr.args or expr.keywords else ''})"
    if isinstance(expr, ast.Subscript):
        return f"{_short(expr.value)}[...]"
    text = ast.unparse(expr)
    return text if len(text) <= 40 else text[:37] + "..."


def _mentions(expr: ast.AST | None, names: Iterable[str]) -> bool:
    """Whether a name or attribute anywhere in ``expr`` is one of ``names``."""
    wanted = set(names)
    return expr is not None and any(
        (isinstance(node, ast.Name) and node.id in wanted)
        or (isinstance(node, ast.Attribute) and node.attr in wanted)
        for node in ast.walk(expr)
    )


def _string_items(expr: ast.expr | None) -> set[str]:
    """The string constants of a list/tuple/set literal (``update_fields=[...]``)."""
    if isinstance(expr, ast.List | ast.Tuple | ast.Set):
        return {
            e.value for e in expr.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
        }
    return set()


def _keyword(call: ast.Call, name: str) -> ast.keyword | None:
    return next((k for k in call.keywords if k.arg == name), None)


def _is_invoice_status(value: ast.expr | None, invoice_like: bool) -> bool:
    """Whether a status written is taken for an invoice's: the value mentions InvoiceStatus
    or the place looks like an invoice's, and the value mentions no other status enum."""
    if _mentions(value, OTHER_STATUSES):
        return False
    return invoice_like or _mentions(value, {"InvoiceStatus"})


def _invoice_status_write(target: ast.expr, value: ast.expr | None, in_billing: bool) -> bool:
    """Whether ``target.status = value`` is taken for an invoice's status: in the billing
    app, or anywhere the value mentions InvoiceStatus; never when the value mentions
    PaymentStatus/MessageStatus or the target's names say payment or message."""
    if NOT_AN_INVOICE.search(" ".join(_chain_names(target))):
        return False
    return _is_invoice_status(value, in_billing)


class _MoneyWriteFinder(ast.NodeVisitor):
    """See ``money_writes``."""

    def __init__(self, in_billing: bool):
        self.in_billing = in_billing
        self.found: list[Finding] = []

    def add(self, kind: str, node: ast.AST, what: str) -> None:
        self.found.append(Finding(kind, node.lineno, what))

    # Assignments: x.amount_paid = ..., x.balance = ..., x.status = ...
    def _assigned(self, node: ast.AST, target: ast.expr, value: ast.expr | None) -> None:
        if isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self._assigned(node, element, value)
            return
        if isinstance(target, ast.Attribute):
            self._attribute_write(node, target.value, target.attr, value, f"{_short(target)} = ")

    def _attribute_write(self, node, obj, attr: str, value, prefix: str) -> None:
        written = f"{prefix}{_short(value) if value is not None else '...'}"
        if attr in ("amount_paid", "amount_credited"):
            self.add(INVOICE_PAYMENT_STATE, node, f"sets {attr}: {written}")
        elif attr == "balance":
            self.add(BALANCE, node, f"sets a stored balance: {written}")
        elif attr == "status" and _invoice_status_write(obj, value, self.in_billing):
            self.add(INVOICE_PAYMENT_STATE, node, f"sets an invoice status: {written}")

    def visit_Assign(self, node: ast.Assign):
        for target in node.targets:
            self._assigned(node, target, node.value)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign):
        self._assigned(node, node.target, node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign):
        if node.value is not None:
            self._assigned(node, node.target, node.value)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call):
        self._call(node)
        self.generic_visit(node)

    def _call(self, node: ast.Call) -> None:
        func = node.func
        # Model(...): a new row, saved or bulk-created later.
        called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if called == LEDGER_ENTRY_CLASS:
            self.add(LEDGER_ENTRY, node, f"creates a LedgerEntry: {_short(func)}(...)")
            return
        if called == SPAN_CLASS:
            self.add(OUTSTANDING_SPAN, node, f"creates an OutstandingSpan: {_short(func)}(...)")
            return
        if called == ACCOUNT_CLASS:
            self.add(BALANCE, node, f"creates an Account: {_short(func)}(...)")
            return
        if called == "Invoice" and _keyword(node, "amount_paid"):
            self.add(INVOICE_PAYMENT_STATE, node, "creates an Invoice with amount_paid=")
            return
        if called == "setattr" and len(node.args) >= 2:
            name = node.args[1]
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                value = node.args[2] if len(node.args) > 2 else None
                self._attribute_write(node, node.args[0], name.value, value, "setattr: ")
            return
        if not isinstance(func, ast.Attribute):
            return
        method, receiver = func.attr, func.value
        names = _chain_names(receiver)
        shown = f"{_short(func)}(...)"
        if method in WRITE_METHODS and LEDGER_ENTRY_NAMES.intersection(names):
            self.add(LEDGER_ENTRY, node, f"writes LedgerEntry rows: {shown}")
        elif method in WRITE_METHODS and SPAN_NAMES.intersection(names):
            self.add(OUTSTANDING_SPAN, node, f"writes OutstandingSpan rows: {shown}")
        elif method in WRITE_METHODS and ACCOUNT_NAMES.intersection(names):
            self.add(BALANCE, node, f"writes Account rows: {shown}")
        else:
            self._field_writes(node, method, receiver, names)

    def _field_writes(self, node: ast.Call, method: str, receiver, names: list[str]) -> None:
        """Writes named by field: update(balance=...), update(status=...) on invoices,
        bulk_update(rows, [...]) and save(update_fields=[...])."""
        chain = " ".join(names)
        invoice_like = bool(INVOICE_NAMES.search(chain)) and not NOT_AN_INVOICE.search(chain)
        if method == "update":
            if _keyword(node, "balance"):
                self.add(BALANCE, node, f"writes stored balances: {_short(node.func)}(balance=...)")
            if _keyword(node, "amount_paid"):
                shown = f"{_short(node.func)}(amount_paid=...)"
                self.add(INVOICE_PAYMENT_STATE, node, f"writes amount_paid: {shown}")
            status = _keyword(node, "status")
            if status and _is_invoice_status(status.value, invoice_like):
                shown = f"{_short(node.func)}(status=...)"
                self.add(INVOICE_PAYMENT_STATE, node, f"writes invoice statuses: {shown}")
            return
        if method in CREATE_METHODS and "Invoice" in names and _keyword(node, "amount_paid"):
            shown = f"{_short(node.func)}(amount_paid=...)"
            self.add(INVOICE_PAYMENT_STATE, node, f"creates invoices with {shown}")
            return
        if method == "bulk_update":
            fields = _string_items(node.args[1] if len(node.args) > 1 else None)
            fields |= _string_items(getattr(_keyword(node, "fields"), "value", None))
            shown = f"{_short(node.func)}(..., {sorted(fields)})"
        elif method == "save":
            fields = _string_items(getattr(_keyword(node, "update_fields"), "value", None))
            shown = f"{_short(node.func)}(update_fields={sorted(fields)})"
        else:
            return
        if "balance" in fields:
            self.add(BALANCE, node, f"saves a stored balance: {shown}")
        if "amount_paid" in fields or ("status" in fields and invoice_like):
            self.add(INVOICE_PAYMENT_STATE, node, f"saves amount_paid/status: {shown}")


def money_writes(tree: ast.AST, module: str) -> list[Finding]:
    """Every write of money state in a module's tree, found by these heuristics:

    - LedgerEntry creation: ``LedgerEntry(...)`` (also ``models.LedgerEntry(...)``), and
      create/bulk_create/get_or_create/update_or_create (or update/bulk_update/delete: the
      ledger is append-only) on a chain naming LedgerEntry or the ``ledger_entries`` manager;
    - OutstandingSpan writes: ``OutstandingSpan(...)`` and any write method on a chain naming
      OutstandingSpan, e.g. ``models.OutstandingSpan.objects.filter(...).delete()``;
    - stored balance writes: ``.update(balance=...)`` anywhere, ``x.balance = ...`` (and
      ``+=``), ``bulk_update``/``save(update_fields=...)`` naming "balance", ``Account(...)``
      and any write method on a chain naming ``Account`` (the ledger app's balances);
    - invoice amount_paid/status writes: ``x.amount_paid = ...`` anywhere (only invoices
      have it); ``x.status = ...`` in the billing app or where the value mentions
      InvoiceStatus; ``.update(amount_paid=...)`` anywhere; ``.update(status=...)`` on a
      chain naming an invoice or with an InvoiceStatus value; ``Invoice(amount_paid=...)``;
      ``bulk_update``/``save(update_fields=...)`` naming amount_paid, or status on a chain
      naming an invoice. ``setattr(x, "name", ...)`` with a literal name counts as ``x.name =``.

    A payment's or a message's own status is not a money write: nothing whose value mentions
    PaymentStatus/MessageStatus, or whose target's names contain "payment"/"message", is a
    status write. Only the names along a chain are read (``Payment.objects.filter(invoice=i)``
    names Payment, not an invoice).
    """
    finder = _MoneyWriteFinder(in_billing=module.split(".")[0] == "billing")
    finder.visit(tree)
    return finder.found


def restricted_uses(
    tree: ast.AST, module: str, is_package: bool, patterns: Iterable[str]
) -> list[Finding]:
    """Every use (a call, or the function passed on) of a function matching one of
    ``patterns`` (fnmatch, e.g. "ledger.journal.*"), found through the names the module
    imports: ``from ledger import journal`` then ``journal.append(...)``, ``from ledger.journal
    import append`` then ``append(...)``, ``import ledger.journal`` then
    ``ledger.journal.append(...)``. The import statement itself is not a use, and neither is a
    module's use of its own functions."""
    patterns = list(patterns)
    names = bindings(tree, module, is_package)
    found: list[Finding] = []

    def qualified(expr: ast.expr) -> str | None:
        if isinstance(expr, ast.Name):
            return names.get(expr.id)
        if isinstance(expr, ast.Attribute):
            base = qualified(expr.value)
            return f"{base}.{expr.attr}" if base else None
        return None

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Name | ast.Attribute) and isinstance(node.ctx, ast.Load):
            name = qualified(node)
            matched = [p for p in patterns if name and fnmatch(name, p)]
            if matched and not name.startswith(f"{module}."):
                found.append(Finding(matched[0], node.lineno, f"uses {name}"))
                return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found
