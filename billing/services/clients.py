"""Operations on clients and services: add and change (neither is ever deleted once used)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from otb.operations import UNSET, InvalidInput, ensure_permitted, field_label, given, operation
from settings_app.selectors import get_business_settings

from ..inputs import clean_decimal, full_clean
from ..models import Client, Service
from . import locking
from .figures import MAX_UNIT_PRICE

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# The fields a caller may set, as the operations' keyword arguments name them (the admin
# picks these out of its form).
CLIENT_FIELDS = frozenset(
    {
        "code",
        "name",
        "contact_person",
        "email",
        "phone",
        "address",
        "country",
        "tax_exempt",
        "default_currency",
        "notes",
        "is_active",
    }
)
SERVICE_FIELDS = frozenset(
    {"code", "name", "description", "unit", "unit_price", "taxable", "is_active"}
)


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


def _upper(value: Any) -> Any:
    """Codes are kept in capitals, without the spaces a paste brings."""
    return value.strip().upper() if isinstance(value, str) else value


def _clean_unit_price(value: Any) -> Any:
    if value is UNSET:
        return value
    return clean_decimal(
        value,
        field="unit_price",
        label=_("Default unit price"),
        decimal_places=4,
        maximum=MAX_UNIT_PRICE,
    )


@operation
def create_client(
    *,
    acting_user: User | None,
    code: str = "",
    name: str = "",
    country: str = "",
    contact_person: str = UNSET,
    email: str = UNSET,
    phone: str = UNSET,
    address: str = UNSET,
    tax_exempt: bool = UNSET,
    default_currency: str = UNSET,
    notes: str = UNSET,
    is_active: bool = UNSET,
) -> Client:
    """A new client; without a currency, the business's default currency."""
    ensure_permitted(acting_user, "billing.add_client", _("add clients"))
    fields = given(
        code=_upper(code),
        name=name,
        country=_upper(country),
        contact_person=contact_person,
        email=email,
        phone=phone,
        address=address,
        tax_exempt=tax_exempt,
        default_currency=_upper(default_currency),
        notes=notes,
        is_active=is_active,
    )
    if not fields.get("default_currency"):
        fields["default_currency"] = get_business_settings().default_currency
    client = Client(**fields)
    full_clean(client)
    _save_unique_code(client)
    return client


@operation
def update_client(
    *,
    client: Client,
    acting_user: User | None,
    code: str = UNSET,
    name: str = UNSET,
    country: str = UNSET,
    contact_person: str = UNSET,
    email: str = UNSET,
    phone: str = UNSET,
    address: str = UNSET,
    tax_exempt: bool = UNSET,
    default_currency: str = UNSET,
    notes: str = UNSET,
    is_active: bool = UNSET,
) -> Client:
    """Change the fields given. The currency is fixed once the account has money in it."""
    ensure_permitted(acting_user, "billing.change_client", _("change clients"))
    fields = given(
        code=_upper(code),
        name=name,
        country=_upper(country),
        contact_person=contact_person,
        email=email,
        phone=phone,
        address=address,
        tax_exempt=tax_exempt,
        default_currency=_upper(default_currency),
        notes=notes,
        is_active=is_active,
    )
    client = locking.lock_clients([client.pk])[0]
    new_currency = fields.get("default_currency", client.default_currency)
    if new_currency != client.default_currency and (
        client.invoices.exists() or client.payments.exists() or client.ledger_entries.exists()
    ):
        raise InvalidInput.single(
            "default_currency",
            _(
                "Currency: %(code)s already has invoices, payments or ledger entries in "
                "%(currency)s; its account stays in that currency."
            )
            % {"code": client.code, "currency": client.default_currency},
        )
    for key, value in fields.items():
        setattr(client, key, value)
    full_clean(client)
    _save_unique_code(client)
    return client


@operation
def create_service(
    *,
    acting_user: User | None,
    code: str = "",
    name: str = "",
    unit_price: Decimal | str = UNSET,
    description: str = UNSET,
    unit: str = UNSET,
    taxable: bool = UNSET,
    is_active: bool = UNSET,
) -> Service:
    """A new service, with the defaults a line on it takes."""
    ensure_permitted(acting_user, "billing.add_service", _("add services"))
    fields = given(
        code=_upper(code),
        name=name,
        unit_price=_clean_unit_price(unit_price),
        description=description,
        unit=unit,
        taxable=taxable,
        is_active=is_active,
    )
    service = Service(**fields)
    full_clean(service)
    _save_unique_code(service)
    return service


@operation
def update_service(
    *,
    service: Service,
    acting_user: User | None,
    code: str = UNSET,
    name: str = UNSET,
    unit_price: Decimal | str = UNSET,
    description: str = UNSET,
    unit: str = UNSET,
    taxable: bool = UNSET,
    is_active: bool = UNSET,
) -> Service:
    """Change the fields given; lines already on invoices keep what they copied."""
    ensure_permitted(acting_user, "billing.change_service", _("change services"))
    service = Service.objects.select_for_update().get(pk=service.pk)
    fields = given(
        code=_upper(code),
        name=name,
        unit_price=_clean_unit_price(unit_price),
        description=description,
        unit=unit,
        taxable=taxable,
        is_active=is_active,
    )
    for key, value in fields.items():
        setattr(service, key, value)
    full_clean(service)
    _save_unique_code(service)
    return service
