"""What a file can import (SPEC: Exports and imports): clients, services and opening
balances. For each, the fields a column can give, how several columns given to one field
combine (an address of street, city and postal code), and how a row becomes the same
operation the pages call (``billing.services``), so an imported client is checked by the
very rules a typed one is.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Model
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing import services as billing
from billing.models import Client, Service
from otb.operations import InvalidInput
from settings_app.models import Tax
from settings_app.selectors import get_business_settings

from .values import read_country, read_number, read_yes_no

# How the cells of several columns given to one field make its value.
FIRST = "first"  # the first that is not empty (a client's phone, else its contact's)
LINES = "lines"  # one line each (street, city, postal code: an address)
WORDS = "words"  # joined by spaces (first and last name)
SUM = "sum"  # added up (a credit balance and a payment balance)

CODE_LENGTH = 20
# The fields that open a client's account: they need the right to post ledger entries.
OPENING_TARGETS = frozenset({"opening_balance", "opening_credit"})


def opens_balances(kind_name: str, targets: Iterable[str]) -> bool:
    """Whether a file of ``kind_name`` whose columns give ``targets`` opens accounts: then
    it needs the right to post ledger entries, and its cut-over day matters."""
    return kind_name == "balances" or bool(OPENING_TARGETS & set(targets))


HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Target:
    """A field a column can give."""

    name: str
    label: Promise
    combine: str = FIRST
    required: bool = False
    help: Promise | str = ""
    aliases: tuple[str, ...] = ()
    """Other names of a column that gives it, matched when no preset knows the file."""

    @property
    def combined(self) -> str:
        """How the cells of several columns given to it make its value, in words."""
        return {
            FIRST: _("Several columns: the first that is not empty."),
            LINES: _("Several columns: one line each."),
            WORDS: _("Several columns: joined by spaces."),
            SUM: _("Several columns: added up."),
        }[self.combine]


@dataclass
class Context:
    """What the rows of one import share."""

    acting_user: Any
    cut_over: datetime.date | None
    local_country: str = ""
    decimal_mark: str = "."
    """Decides a number that could be read either way (``values.decimal_mark_of``)."""
    codes: dict[str, int] = field(default_factory=dict)
    """The codes the rows so far gave or were given, with their row: a second row of one
    code is named with the first."""
    taxes: dict[str, Tax] = field(default_factory=dict)
    opened: dict[tuple[str, str], int] = field(default_factory=dict)
    """(client code, currency) → the row of the file that opens that account."""
    created: set[int] = field(default_factory=set)
    """The clients or services this import made: a row may share a name with another."""


@dataclass(frozen=True)
class Kind:
    name: str
    label: Promise
    noun: Promise
    targets: tuple[Target, ...]
    shown: tuple[tuple[str, Promise], ...]
    """The preview's columns: (key of what ``make`` returns, heading)."""
    permissions: tuple[str, ...]
    make: Callable[[Mapping[str, str], Context, int], dict[str, str]]
    """Write one row (given its values by target, the context and its row number) through
    the operations; returns what the preview shows of it."""
    fields: Mapping[str, str]
    """An operation's field (as its InvalidInput names it) → the target that gave it."""

    def target(self, name: str) -> Target:
        return next(target for target in self.targets if target.name == name)


def _given(values: Mapping[str, str], *names: str) -> dict[str, str]:
    return {name: values[name] for name in names if values.get(name)}


def _code(values: Mapping[str, str], model: type[Model], context: Context, row: int) -> str:
    """The row's code, or one made from its name (ACME GmbH → ACME-GMBH, then ACME-GMBH-2
    when taken): Crater has no codes, and Invoice Ninja's may be empty."""
    code = values.get("code", "").strip().upper()
    label = _("Client code") if model is Client else _("Service code")
    if code:
        if code in context.codes:
            raise InvalidInput.single(
                "code",
                _("%(label)s: %(code)s is also on row %(row)d.")
                % {"label": label, "code": code, "row": context.codes[code]},
            )
        context.codes[code] = row
        return code
    name = values.get("name") or values.get("description", "").split("\n", 1)[0]
    _refuse_a_second_of_the_name(name, model, context)
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^A-Z0-9]+", "-", ascii_name.upper()).strip("-")[:CODE_LENGTH].strip("-")
    base = base or ("CLIENT" if model is Client else "SERVICE")
    candidate, n = base, 2
    while candidate in context.codes or model._default_manager.filter(code=candidate).exists():
        suffix = f"-{n}"
        candidate = base[: CODE_LENGTH - len(suffix)].rstrip("-") + suffix
        n += 1
    context.codes[candidate] = row
    return candidate


def _refuse_a_second_of_the_name(name: str, model: type[Model], context: Context) -> None:
    """A row without a code whose name is on file from before the import: a file imported
    twice would otherwise add each of its clients again, with its opening balance."""
    found = (
        model._default_manager.filter(name__iexact=name.strip())
        .exclude(pk__in=context.created)
        .values_list("code", flat=True)
        .first()
    )
    if found is not None:
        noun = _("a client") if model is Client else _("a service")
        raise InvalidInput.single(
            "name",
            _(
                "Name: %(noun)s named “%(name)s” is on file already (%(code)s); give this row a "
                "code to add another."
            )
            % {"noun": noun, "name": name[:60], "code": found},
        )


def _taxes(text: str, context: Context) -> dict[str, Any]:
    """A client's or service's taxes as our export writes them: "default" (the business's
    set), or labels joined by commas."""
    if text.strip().casefold() == "default":
        return {"uses_default_taxes": True}
    if not context.taxes:
        context.taxes = {tax.label.casefold(): tax for tax in Tax.objects.all()}
    labels = [label.strip() for label in text.split(",") if label.strip()]
    unknown = [label for label in labels if label.casefold() not in context.taxes]
    if unknown:
        raise InvalidInput.single(
            "taxes",
            _("Taxes: %(labels)s is none of the business's taxes.")
            % {"labels": ", ".join(unknown)},
        )
    return {
        "uses_default_taxes": False,
        "taxes": [context.taxes[label.casefold()] for label in labels],
    }


def _number(text: str, field: str, label: str, context: Context) -> Decimal:
    return read_number(text, field=field, label=label, decimal_mark=context.decimal_mark)


def _opening(values: Mapping[str, str], context: Context) -> Decimal:
    """What the row says the client owed: its balance less what it had in hand."""
    owed = Decimal(0)
    if values.get("opening_balance"):
        owed += _number(values["opening_balance"], "opening_balance", _("Opening balance"), context)
    if values.get("opening_credit"):
        owed -= _number(values["opening_credit"], "opening_credit", _("Credit in hand"), context)
    return owed


def _open(client: Client, owed: Decimal, context: Context) -> None:
    """A new client's opening balance, in its currency; a client that owed nothing opens
    none."""
    if owed:
        billing.post_opening_balance(
            client=client, owed=owed, date=context.cut_over, acting_user=context.acting_user
        )


def _make_client(values: Mapping[str, str], context: Context, row: int) -> dict[str, str]:
    fields: dict[str, Any] = _given(
        values, "name", "contact_person", "email", "phone", "address", "tax_number", "notes"
    )
    fields["code"] = _code(values, Client, context, row)
    if values.get("country"):
        fields["country"] = read_country(values["country"], field="country", label=_("Country"))
    else:
        fields["country"] = context.local_country
    if values.get("currency"):
        fields["default_currency"] = values["currency"].strip().upper()
    if values.get("tax_exempt"):
        fields["tax_exempt"] = read_yes_no(
            values["tax_exempt"], field="tax_exempt", label=_("Tax exempt")
        )
    if values.get("active"):
        fields["is_active"] = read_yes_no(values["active"], field="active", label=_("Active"))
    if values.get("taxes"):
        fields |= _taxes(values["taxes"], context)
    owed = _opening(values, context)
    client = billing.create_client(acting_user=context.acting_user, **fields)
    context.created.add(client.pk)
    _open(client, owed, context)
    return {
        "code": client.code,
        "name": client.name,
        "email": client.email,
        "country": client.country,
        "currency": client.default_currency,
        "opening_balance": f"{owed:.2f}" if owed else "",
    }


def _make_service(values: Mapping[str, str], context: Context, row: int) -> dict[str, str]:
    fields: dict[str, Any] = _given(values, "description", "unit")
    fields["code"] = _code(values, Service, context, row)
    # Invoice Ninja's products have no name beside their code and notes.
    fields["name"] = (
        values.get("name") or values.get("description", "").split("\n", 1)[0] or fields["code"]
    )
    if values.get("unit_price"):
        fields["unit_price"] = _number(values["unit_price"], "unit_price", _("Unit price"), context)
    elif values.get("unit_price_cents"):
        cents = _number(
            values["unit_price_cents"], "unit_price_cents", _("Unit price in cents"), context
        )
        if cents != cents.to_integral_value():
            raise InvalidInput.single(
                "unit_price_cents",
                _("Unit price in cents: “%(value)s” is no whole number of cents (9500 is 95.00).")
                % {"value": values["unit_price_cents"][:40]},
            )
        fields["unit_price"] = cents / HUNDRED
    if values.get("taxable"):
        fields["taxable"] = read_yes_no(values["taxable"], field="taxable", label=_("Taxable"))
    elif values.get("tax_rate"):
        rates = [
            _number(rate, "tax_rate", _("Tax rate"), context)
            for rate in values["tax_rate"].split("\n")
        ]
        fields["taxable"] = any(rate > 0 for rate in rates)
    if values.get("active"):
        fields["is_active"] = read_yes_no(values["active"], field="active", label=_("Active"))
    if values.get("taxes"):
        taxes = _taxes(values["taxes"], context)
        fields["taxes"] = taxes.get("taxes", [])
    service = billing.create_service(acting_user=context.acting_user, **fields)
    context.created.add(service.pk)
    return {
        "code": service.code,
        "name": service.name,
        "unit": service.unit,
        "unit_price": f"{service.unit_price:f}",
        "taxable": _("yes") if service.taxable else _("no"),
    }


def _make_balance(values: Mapping[str, str], context: Context, row: int) -> dict[str, str]:
    reference = values.get("client", "").strip()
    client = Client.objects.filter(code=reference.upper()).first() if reference else None
    if client is None and reference:
        named = list(Client.objects.filter(name__iexact=reference).order_by("code")[:2])
        if len(named) > 1:
            raise InvalidInput.single(
                "client",
                _("Client: %(first)s and %(second)s are both named “%(ref)s”; give the code.")
                % {"first": named[0].code, "second": named[1].code, "ref": reference[:60]},
            )
        client = named[0] if named else None
    if client is None:
        raise InvalidInput.single(
            "client",
            _("Client: no client has the code or name “%(ref)s”.") % {"ref": reference[:60]}
            if reference
            else _("Client: empty; give the client's code."),
        )
    owed = _opening(values, context)
    currency = values.get("currency", "").strip().upper() or None
    opened = (client.code, currency or client.default_currency)
    if opened in context.opened:
        raise InvalidInput.single(
            "client",
            _("Client: %(code)s's opening balance in %(currency)s is also on row %(row)d.")
            % {"code": opened[0], "currency": opened[1], "row": context.opened[opened]},
        )
    context.opened[opened] = row
    # Zero is refused here, by the operation: a row of a balances file is there to open one.
    billing.post_opening_balance(
        client=client,
        owed=owed,
        currency=currency,
        date=context.cut_over,
        acting_user=context.acting_user,
    )
    return {
        "client": client.code,
        "name": client.name,
        "currency": currency or client.default_currency,
        "opening_balance": f"{owed:.2f}",
    }


_OPENING = (
    Target(
        "opening_balance",
        gettext_lazy("Opening balance (owed)"),
        SUM,
        help=gettext_lazy("What the client owed on the cut-over day; negative: credit."),
        aliases=("balance", "amount", "owed", "opening balance"),
    ),
    Target(
        "opening_credit",
        gettext_lazy("Credit in hand"),
        SUM,
        help=gettext_lazy("Payments or credit notes not yet used: taken off the balance."),
        aliases=("credit", "credit balance"),
    ),
)
_CODE = Target("code", gettext_lazy("Code"), help=gettext_lazy("Empty: made from the name."))
_ACTIVE = Target("active", gettext_lazy("Active"), aliases=("status", "is active"))
_TAXES = Target(
    "taxes", gettext_lazy("Taxes"), help=gettext_lazy("“default”, or tax labels joined by commas.")
)

CLIENTS = Kind(
    name="clients",
    label=gettext_lazy("Clients"),
    noun=gettext_lazy("clients"),
    targets=(
        _CODE,
        Target("name", gettext_lazy("Name"), required=True, aliases=("client name", "company")),
        Target(
            "contact_person",
            gettext_lazy("Contact person"),
            WORDS,
            aliases=("contact", "first name", "last name"),
        ),
        Target("email", gettext_lazy("E-mail"), aliases=("e-mail", "email address")),
        Target("phone", gettext_lazy("Phone"), aliases=("telephone",)),
        Target(
            "address",
            gettext_lazy("Address"),
            LINES,
            aliases=("street", "city", "postal code", "zip"),
        ),
        Target(
            "country",
            gettext_lazy("Country"),
            help=gettext_lazy(
                "A code, or a name in English or a neighbouring language; empty: the "
                "business's country."
            ),
        ),
        Target("tax_number", gettext_lazy("Tax or VAT number"), aliases=("vat number", "vat")),
        Target("tax_exempt", gettext_lazy("Tax exempt")),
        Target(
            "currency",
            gettext_lazy("Currency"),
            help=gettext_lazy("Empty: the business's currency."),
            aliases=("default currency",),
        ),
        _TAXES,
        Target("notes", gettext_lazy("Notes"), LINES),
        _ACTIVE,
        *_OPENING,
    ),
    shown=(
        ("code", gettext_lazy("Code")),
        ("name", gettext_lazy("Name")),
        ("email", gettext_lazy("E-mail")),
        ("country", gettext_lazy("Country")),
        ("currency", gettext_lazy("Currency")),
        ("opening_balance", gettext_lazy("Owed (negative: credit)")),
    ),
    permissions=("billing.add_client",),
    make=_make_client,
    fields={
        "amount": "opening_balance",
        "uses_default_taxes": "taxes",
        "default_currency": "currency",
        "is_active": "active",
    },
)

SERVICES = Kind(
    name="services",
    label=gettext_lazy("Services"),
    noun=gettext_lazy("services"),
    targets=(
        _CODE,
        Target(
            "name",
            gettext_lazy("Name"),
            help=gettext_lazy("Empty: the description's first line, else the code."),
        ),
        Target("description", gettext_lazy("Description"), LINES, aliases=("notes",)),
        Target("unit", gettext_lazy("Unit"), aliases=("unit name",)),
        Target(
            "unit_price",
            gettext_lazy("Unit price"),
            aliases=("price", "rate", "unit price"),
            help=gettext_lazy("In the business's currency."),
        ),
        Target(
            "unit_price_cents",
            gettext_lazy("Unit price in cents"),
            help=gettext_lazy("9500 is 95.00 (Crater keeps prices so)."),
        ),
        Target("taxable", gettext_lazy("Taxable")),
        Target(
            "tax_rate",
            gettext_lazy("Tax rate"),
            LINES,
            help=gettext_lazy("Taxable when one is above zero."),
        ),
        _TAXES,
        _ACTIVE,
    ),
    shown=(
        ("code", gettext_lazy("Code")),
        ("name", gettext_lazy("Name")),
        ("unit", gettext_lazy("Unit")),
        ("unit_price", gettext_lazy("Unit price")),
        ("taxable", gettext_lazy("Taxable")),
    ),
    permissions=("billing.add_service",),
    make=_make_service,
    fields={"is_active": "active"},
)

BALANCES = Kind(
    name="balances",
    label=gettext_lazy("Opening balances"),
    noun=gettext_lazy("opening balances"),
    targets=(
        Target(
            "client",
            gettext_lazy("Client"),
            required=True,
            help=gettext_lazy("Its code, or its name."),
            aliases=("client code", "code", "number", "name", "client name"),
        ),
        *_OPENING,
        Target(
            "currency",
            gettext_lazy("Currency"),
            help=gettext_lazy("Empty: the client's currency."),
        ),
    ),
    shown=(
        ("client", gettext_lazy("Client")),
        ("name", gettext_lazy("Name")),
        ("currency", gettext_lazy("Currency")),
        ("opening_balance", gettext_lazy("Owed (negative: credit)")),
    ),
    permissions=("ledger.add_ledgerentry",),
    make=_make_balance,
    fields={"amount": "opening_balance"},
)

KINDS: dict[str, Kind] = {kind.name: kind for kind in (CLIENTS, SERVICES, BALANCES)}


def local_country() -> str:
    return get_business_settings().local_country
