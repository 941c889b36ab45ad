"""Operations on clients and services: add and change (neither is ever deleted once used;
a client entered by mistake is)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from audit import recording as audit
from otb.operations import InvalidInput, ensure_permitted, field_label, operation
from otb.text import CONTROL_CHARACTERS
from settings_app.models import Tax
from settings_app.selectors import get_business_settings

from .. import accounting
from ..errors import InvalidTransition
from ..inputs import clean_decimal, full_clean
from ..models import (
    CONTACT_EMAIL_MAX_LENGTH,
    CONTACT_NAME_MAX_LENGTH,
    Client,
    ClientContact,
    Service,
    ServicePrice,
)
from ..money import CURRENCIES
from ..rules import client_deletion_refusal
from . import locking
from .figures import MAX_UNIT_PRICE

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class ContactFields(TypedDict):
    """One of a client's other contacts: an address, and maybe whose it is."""

    name: NotRequired[str]
    email: str


class ClientFields(TypedDict, total=False):
    """What a caller may set on a client (the admin picks these out of its form).
    ``contacts``: its other contacts, beside its own e-mail; given, they are all of them (an
    address left out is no longer on file)."""

    code: str
    name: str
    contact_person: str
    email: str
    contacts: Sequence[ContactFields]
    phone: str
    address: str
    country: str
    tax_number: str
    tax_exempt: bool
    uses_default_taxes: bool
    taxes: Sequence[Tax]
    default_currency: str
    notes: str
    is_active: bool


class PriceFields(TypedDict):
    """A service's price in a currency other than the base one."""

    currency: str
    unit_price: Decimal | str


class ServiceFields(TypedDict, total=False):
    """What a caller may set on a service. ``prices``: its prices in currencies other than
    the base one, as {"USD": "95.00"} or [{"currency": "USD", "unit_price": "95.00"}]; given,
    they are all of them (a currency left out loses its price)."""

    code: str
    name: str
    description: str
    unit: str
    unit_price: Decimal | str
    taxable: bool
    taxes: Sequence[Tax]
    prices: Mapping[str, Decimal | str] | Sequence[PriceFields]
    is_active: bool


CLIENT_FIELDS = frozenset(ClientFields.__annotations__)
SERVICE_FIELDS = frozenset(ServiceFields.__annotations__)
# The rows a client's and a service's audit records show with them.
CLIENT_RELATED = ("contacts",)
SERVICE_RELATED = ("prices",)
# More would be a list, not the contacts of one client.
MAX_CONTACTS = 50
# Codes are kept in capitals, without the spaces a paste brings.
_CAPITALS = frozenset({"code", "country", "default_currency"})


def _normalised(fields: ClientFields | ServiceFields) -> dict[str, Any]:
    """The fields given, codes in capitals, a service's price cleaned; the taxes, a client's
    other contacts and a service's prices in other currencies are set apart (``_set_taxes``,
    ``_set_contacts``, ``_set_prices``)."""
    values: dict[str, Any] = dict(fields)
    values.pop("taxes", None)
    values.pop("prices", None)
    values.pop("contacts", None)
    for key in _CAPITALS & values.keys():
        if isinstance(values[key], str):
            values[key] = values[key].strip().upper()
    if "unit_price" in values:
        values["unit_price"] = clean_decimal(
            values["unit_price"],
            field="unit_price",
            label=_("Default unit price"),
            decimal_places=4,
            maximum=MAX_UNIT_PRICE,
        )
    return values


def _clean_taxes(fields: ClientFields | ServiceFields) -> list[Tax] | None:
    """The taxes given (a client's own set, or those a service carries), or None when not
    given. Each must be one of the business's taxes."""
    if "taxes" not in fields:
        return None
    taxes = fields["taxes"]
    if isinstance(taxes, str | bytes) or not all(isinstance(tax, Tax) and tax.pk for tax in taxes):
        raise InvalidInput.single("taxes", _("Taxes: choose among the business's taxes."))
    return list(dict.fromkeys(taxes))


def _set_taxes(instance: Client | Service, taxes: list[Tax] | None) -> None:
    if taxes is not None:
        instance.taxes.set(taxes)


def _clean_prices(fields: ServiceFields) -> dict[str, Decimal] | None:
    """A service's prices in other currencies than the base one, by currency, or None when
    not given. Each is refused with a message naming it: an unknown currency, the base
    currency (its price is the default unit price), a currency given twice, a price below
    0 or with more than 4 decimals."""
    if "prices" not in fields:
        return None
    given = fields["prices"]
    if isinstance(given, Mapping):
        rows: list[Any] = [{"currency": code, "unit_price": price} for code, price in given.items()]
    elif isinstance(given, str | bytes) or not isinstance(given, Sequence):
        raise InvalidInput.single("prices", _("Prices: give a currency and a unit price for each."))
    else:
        rows = list(given)
    base_currency = get_business_settings().default_currency
    prices: dict[str, Decimal] = {}
    errors: dict[str, list[str]] = {}
    for index, row in enumerate(rows):
        where = _("Price %(n)d") % {"n": index + 1}
        if not isinstance(row, Mapping):
            errors[f"prices.{index}"] = [
                _("%(where)s: give a currency and a unit price.") % {"where": where}
            ]
            continue
        given_code = row.get("currency")
        code = given_code.strip().upper() if isinstance(given_code, str) else ""
        problem = None
        if not code:
            problem = _("%(where)s, currency: choose a currency.") % {"where": where}
        elif code not in CURRENCIES:
            problem = _(
                "%(where)s, currency: “%(code)s” is not a currency OTB Billing offers; use one "
                "of %(codes)s."
            ) % {"where": where, "code": str(given_code or "")[:20], "codes": ", ".join(CURRENCIES)}
        elif code == base_currency:
            problem = _(
                "%(where)s, currency: %(code)s is the base currency; its price is the default "
                "unit price."
            ) % {"where": where, "code": code}
        elif code in prices:
            problem = _("%(where)s, currency: %(code)s is given twice.") % {
                "where": where,
                "code": code,
            }
        if problem:
            errors[f"prices.{index}.currency"] = [problem]
            continue
        try:
            prices[code] = clean_decimal(
                row.get("unit_price"),
                field=f"prices.{index}.unit_price",
                label=_("Price in %(currency)s") % {"currency": code},
                decimal_places=4,
                maximum=MAX_UNIT_PRICE,
            )
        except InvalidInput as exc:
            errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors)
    return prices


def _set_prices(service: Service, prices: dict[str, Decimal] | None) -> None:
    """Make the service's prices in other currencies ``prices``: the rows of currencies
    left out are deleted, the others kept (with their ids) or added."""
    if prices is None:
        return
    stored = {price.currency: price for price in service.prices.all()}
    gone = [price.pk for code, price in stored.items() if code not in prices]
    if gone:
        ServicePrice.objects.filter(pk__in=gone).delete()
    for code, unit_price in prices.items():
        price = stored.get(code)
        if price is None:
            ServicePrice.objects.create(service=service, currency=code, unit_price=unit_price)
        elif price.unit_price != unit_price:
            price.unit_price = unit_price
            price.save(update_fields=["unit_price"])


def _contact_problem(row: Any, *, where: str, own_email: str, seen: set[str]) -> str | None:
    """What is wrong with one of the other contacts given, or None. ``seen`` holds the
    addresses of the contacts before it, in lower case, and gets this one's: an address is
    on file once, in any case."""
    if not isinstance(row, Mapping):
        return _("%(where)s: give an e-mail address, and maybe a name.") % {"where": where}
    name, email = row.get("name") or "", row.get("email")
    if not isinstance(name, str) or CONTROL_CHARACTERS.search(name):
        return _("%(where)s: the name must be one line of text.") % {"where": where}
    if len(name.strip()) > CONTACT_NAME_MAX_LENGTH:
        return _("%(where)s: a name has at most %(n)d characters.") % {
            "where": where,
            "n": CONTACT_NAME_MAX_LENGTH,
        }
    address = email.strip() if isinstance(email, str) else ""
    if not address:
        return _("%(where)s: give an e-mail address.") % {"where": where}
    try:
        validate_email(address)
        if len(address) > CONTACT_EMAIL_MAX_LENGTH:
            raise ValidationError("too long")
    except ValidationError:
        shown = CONTROL_CHARACTERS.sub(" ", address)[:80]
        return _("%(where)s: “%(email)s” is not an e-mail address.") % {
            "where": where,
            "email": shown,
        }
    key = address.lower()
    if key == own_email.strip().lower():
        return _("%(where)s: %(email)s is the client's own e-mail.") % {
            "where": where,
            "email": address,
        }
    if key in seen:
        return _("%(where)s: %(email)s is given twice.") % {"where": where, "email": address}
    seen.add(key)
    return None


def _clean_contacts(fields: ClientFields, *, own_email: str) -> list[ContactFields] | None:
    """A client's other contacts, names and addresses stripped, or None when not given.
    Each is refused with a message naming its line: no address, one that is not an
    address, one already on file (the client's own e-mail, or given twice, in any case)."""
    if "contacts" not in fields:
        return None
    given = fields["contacts"]
    if isinstance(given, str | bytes | Mapping) or not isinstance(given, Sequence):
        raise InvalidInput.single(
            "contacts", _("Other contacts: give an e-mail address, and maybe a name, for each.")
        )
    if len(given) > MAX_CONTACTS:
        raise InvalidInput.single(
            "contacts", _("Other contacts: at most %(n)d.") % {"n": MAX_CONTACTS}
        )
    seen: set[str] = set()
    problems = [
        _contact_problem(
            row,
            where=_("Other contacts, line %(n)d") % {"n": index + 1},
            own_email=own_email,
            seen=seen,
        )
        for index, row in enumerate(given)
    ]
    if any(problems):
        raise InvalidInput({"contacts": [problem for problem in problems if problem]})
    return [
        {"name": (row.get("name") or "").strip(), "email": row["email"].strip()} for row in given
    ]


def _refuse_own_email_among_contacts(client: Client) -> None:
    """The client's e-mail, changed without its contacts, must not be one of them: an
    address is on file once."""
    if client.email and client.contacts.filter(email__iexact=client.email.strip()).exists():
        raise InvalidInput.single(
            "email",
            _("%(label)s: %(email)s is one of the client's other contacts already.")
            % {"label": field_label(client, "email"), "email": client.email},
        )


def _set_contacts(client: Client, contacts: list[ContactFields] | None) -> None:
    """Make the client's other contacts ``contacts``: the rows of addresses left out are
    deleted, the others kept (with their ids) or added. Addresses match in any case."""
    if contacts is None:
        return
    wanted = {contact["email"].lower(): contact for contact in contacts}
    kept: dict[str, ClientContact] = {}
    gone = []
    for row in client.contacts.all():
        key = row.email.lower()
        if key in wanted and key not in kept:
            kept[key] = row
        else:
            gone.append(row.pk)
    if gone:
        ClientContact.objects.filter(pk__in=gone).delete()
    for key, contact in wanted.items():
        name = contact.get("name", "")
        stored = kept.get(key)
        if stored is None:
            ClientContact.objects.create(client=client, name=name, email=contact["email"])
        elif (stored.name, stored.email) != (name, contact["email"]):
            stored.name, stored.email = name, contact["email"]
            stored.save(update_fields=["name", "email"])


def _save_unique_code(instance: Client | Service) -> None:
    """Save a client or service. full_clean checked the code is free, but another request
    may have taken it since: the unique index then refuses, and that is the user's answer
    too, not a server error."""
    try:
        with transaction.atomic():  # a savepoint: the outer transaction stays usable
            instance.save()
    except IntegrityError:
        label = field_label(instance, "code")
        raise InvalidInput.single(
            "code",
            _("%(label)s: %(code)s is already taken.") % {"label": label, "code": instance.code},
        ) from None


@operation
def create_client(*, acting_user: User | None, **fields: Unpack[ClientFields]) -> Client:
    """A new client; without a currency, the business's default currency."""
    ensure_permitted(acting_user, "billing.add_client", _("add clients"))
    values = _normalised(fields)
    taxes = _clean_taxes(fields)
    if not values.get("default_currency"):
        values["default_currency"] = get_business_settings().default_currency
    client = Client(**values)
    full_clean(client)
    contacts = _clean_contacts(fields, own_email=client.email)
    _save_unique_code(client)
    _set_taxes(client, taxes)
    _set_contacts(client, contacts)
    audit.created(client, CLIENT_RELATED)
    return client


@operation
def update_client(
    *, client: Client, acting_user: User | None, **fields: Unpack[ClientFields]
) -> Client:
    """Change the fields given. The currency is the default of new documents only: its
    documents and its account in another currency keep theirs (SPEC: Currencies)."""
    ensure_permitted(acting_user, "billing.change_client", _("change clients"))
    values = _normalised(fields)
    taxes = _clean_taxes(fields)
    # The client's row lock also guards its contacts: two changes of them take turns.
    client = locking.lock_clients([client.pk])[0]
    before = audit.snapshot(client, CLIENT_RELATED)
    for key, value in values.items():
        setattr(client, key, value)
    full_clean(client)
    contacts = _clean_contacts(fields, own_email=client.email)
    if contacts is None and "email" in values:
        _refuse_own_email_among_contacts(client)
    _save_unique_code(client)
    _set_taxes(client, taxes)
    _set_contacts(client, contacts)
    audit.changed(client, before, CLIENT_RELATED)
    return client


@operation
def delete_client(*, client: Client, acting_user: User | None) -> None:
    """Delete a client entered by mistake; one with history is refused with the way out
    (deactivate it)."""
    ensure_permitted(acting_user, "billing.delete_client", _("delete clients"))
    client = locking.lock_clients([client.pk])[0]
    refusal = client_deletion_refusal(client)
    if refusal:
        raise InvalidTransition(refusal)
    audit.deleted(client, CLIENT_RELATED)
    accounting.close_accounts(client)
    client.delete()


@operation
def create_service(*, acting_user: User | None, **fields: Unpack[ServiceFields]) -> Service:
    """A new service, with the defaults a line on it takes."""
    ensure_permitted(acting_user, "billing.add_service", _("add services"))
    taxes = _clean_taxes(fields)
    prices = _clean_prices(fields)
    service = Service(**_normalised(fields))
    full_clean(service)
    _save_unique_code(service)
    _set_taxes(service, taxes)
    _set_prices(service, prices)
    audit.created(service, SERVICE_RELATED)
    return service


@operation
def update_service(
    *, service: Service, acting_user: User | None, **fields: Unpack[ServiceFields]
) -> Service:
    """Change the fields given; lines already on invoices keep what they copied."""
    ensure_permitted(acting_user, "billing.change_service", _("change services"))
    taxes = _clean_taxes(fields)
    prices = _clean_prices(fields)
    # The service's row lock also guards its prices: two changes of them take turns.
    service = Service.objects.select_for_update().get(pk=service.pk)
    before = audit.snapshot(service, SERVICE_RELATED)
    for key, value in _normalised(fields).items():
        setattr(service, key, value)
    full_clean(service)
    _save_unique_code(service)
    _set_taxes(service, taxes)
    _set_prices(service, prices)
    audit.changed(service, before, SERVICE_RELATED)
    return service
