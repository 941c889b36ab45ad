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
from collections.abc import Callable, Mapping
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


@dataclass
class Context:
    """What the rows of one import share."""

    acting_user: Any
    cut_over: datetime.date | None
    local_country: str = ""
    codes: dict[str, int] = field(default_factory=dict)
    """The codes the rows so far gave or were given, with their row: a second row of one
    code is named with the first."""
    taxes: dict[str, Tax] = field(default_factory=dict)


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


def _opening(values: Mapping[str, str], context: Context) -> Decimal:
    """What the row says the client owed: its balance less what it had in hand."""
    owed = Decimal(0)
    if values.get("opening_balance"):
        owed += read_number(
            values["opening_balance"], field="opening_balance", label=_("Opening balance")
        )
    if values.get("opening_credit"):
        owed -= read_number(
            values["opening_credit"], field="opening_credit", label=_("Credit in hand")
        )
    return owed


def _open(client: Client, owed: Decimal, context: Context, currency: str | None = None) -> None:
    if owed:
        billing.post_opening_balance(
            client=client,
            owed=owed,
            currency=currency,
            date=context.cut_over,
            acting_user=context.acting_user,
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
    if values.get("default_currency"):
        fields["default_currency"] = values["default_currency"].strip().upper()
    for name, label in (("tax_exempt", _("Tax exempt")), ("is_active", _("Active"))):
        if values.get(name):
            fields[name] = read_yes_no(values[name], field=name, label=label)
    if values.get("taxes"):
        fields |= _taxes(values["taxes"], context)
    owed = _opening(values, context)
    client = billing.create_client(acting_user=context.acting_user, **fields)
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
        fields["unit_price"] = read_number(
            values["unit_price"], field="unit_price", label=_("Unit price")
        )
    elif values.get("unit_price_cents"):
        cents = read_number(
            values["unit_price_cents"], field="unit_price_cents", label=_("Unit price in cents")
        )
        fields["unit_price"] = cents / HUNDRED
    if values.get("taxable"):
        fields["taxable"] = read_yes_no(values["taxable"], field="taxable", label=_("Taxable"))
    elif values.get("tax_rate"):
        rates = [
            read_number(rate, field="tax_rate", label=_("Tax rate"))
            for rate in values["tax_rate"].split("\n")
        ]
        fields["taxable"] = any(rate > 0 for rate in rates)
    if values.get("is_active"):
        fields["is_active"] = read_yes_no(values["is_active"], field="is_active", label=_("Active"))
    if values.get("taxes"):
        taxes = _taxes(values["taxes"], context)
        fields["taxes"] = taxes.get("taxes", [])
    service = billing.create_service(acting_user=context.acting_user, **fields)
    return {
        "code": service.code,
        "name": service.name,
        "unit": service.unit,
        "unit_price": f"{service.unit_price:f}",
        "taxable": _("yes") if service.taxable else _("no"),
    }


def _make_balance(values: Mapping[str, str], context: Context, row: int) -> dict[str, str]:
    reference = values.get("client", "").strip()
    client = (
        Client.objects.filter(code=reference.upper()).first()
        or Client.objects.filter(name__iexact=reference).order_by("code").first()
        if reference
        else None
    )
    if client is None:
        raise InvalidInput.single(
            "client",
            _("Client: no client has the code or name “%(ref)s”.") % {"ref": reference[:60]}
            if reference
            else _("Client: empty; give the client's code."),
        )
    owed = _opening(values, context)
    if not owed:
        raise InvalidInput.single(
            "amount", _("Opening balance: zero opens nothing; leave the row out.")
        )
    currency = values.get("currency", "").strip().upper() or None
    _open(client, owed, context, currency)
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
_ACTIVE = Target("is_active", gettext_lazy("Active"), aliases=("active", "status"))
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
            help=gettext_lazy("Several columns: one line each."),
            aliases=("street", "city", "postal code", "zip"),
        ),
        Target(
            "country",
            gettext_lazy("Country"),
            help=gettext_lazy("A code or an English name; empty: the business's country."),
        ),
        Target("tax_number", gettext_lazy("Tax or VAT number"), aliases=("vat number", "vat")),
        Target("tax_exempt", gettext_lazy("Tax exempt")),
        Target(
            "default_currency",
            gettext_lazy("Currency"),
            help=gettext_lazy("Empty: the business's currency."),
            aliases=("currency",),
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
        ("opening_balance", gettext_lazy("Opening balance")),
    ),
    permissions=("billing.add_client",),
    make=_make_client,
    fields={"amount": "opening_balance", "uses_default_taxes": "taxes"},
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
    fields={},
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
        ("opening_balance", gettext_lazy("Opening balance")),
    ),
    permissions=("ledger.add_ledgerentry",),
    make=_make_balance,
    fields={"amount": "opening_balance"},
)

KINDS: dict[str, Kind] = {kind.name: kind for kind in (CLIENTS, SERVICES, BALANCES)}


def local_country() -> str:
    return get_business_settings().local_country
