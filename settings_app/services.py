"""Writes to the business settings."""

from __future__ import annotations

import functools
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from audit import recording as audit
from otb.numbers import NumberRefused, plain_decimal
from otb.operations import InvalidInput, ensure_permitted, operation
from otb.text import validate_model

from .models import BusinessSettings, Tax
from .signals import business_settings_changed

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class SettingsChanges(TypedDict, total=False):
    """The settings a caller may change, and the types it gives them in: every editable
    field of BusinessSettings (settings_app/tests checks the two agree). The operation's
    full_clean turns strings into the fields' types and refuses what does not fit."""

    business_name: str
    slogan: str
    email: str
    phone: str
    address: str
    website: str
    registration_number: str
    logo: File | str
    brand_colour: str
    local_country: str
    tax_local_clients_only: bool
    invoice_number_prefix: str
    credit_note_number_prefix: str
    quote_number_prefix: str
    quote_valid_days: int
    quote_terms_text: str
    document_link_days: int
    portal_enabled: bool
    payment_terms_days: int
    payment_terms_text: str
    invoice_footer: str
    default_currency: str
    show_base_equivalent: bool
    lock_issued_invoices: bool
    time_zone: str
    smtp_host: str
    smtp_port: int
    smtp_username: str
    smtp_password: str | None
    smtp_from_email: str
    smtp_from_name: str
    smtp_use_tls: bool
    smtp_use_ssl: bool
    invoice_email_subject: str
    invoice_email_body: str
    quote_email_subject: str
    quote_email_body: str
    send_payment_receipts: bool
    receipt_email_subject: str
    receipt_email_body: str
    send_reminders: bool
    account_receivable: str
    account_income: str
    account_tax: str
    account_money_received: str
    account_adjustments: str
    account_exchange: str
    account_conversion: str
    account_opening: str
    xero_account_code: str


SETTINGS_FIELDS = frozenset(SettingsChanges.__annotations__)


@operation
def update_business_settings(
    *, acting_user: User | None, **changes: Unpack[SettingsChanges]
) -> BusinessSettings:
    """Change the settings. ``smtp_password`` is only ever written: leave it out (or give
    None) to keep the stored one, give "" to clear it. Existing invoices keep the tax,
    currency and terms they were created with. The apps that depend on a setting hear of
    its change by ``business_settings_changed``, in this transaction."""
    ensure_permitted(acting_user, "settings_app.change_businesssettings", _("change the settings"))
    fields: dict[str, Any] = dict(changes)
    if fields.get("smtp_password") is None:
        fields.pop("smtp_password", None)
    settings, _created = BusinessSettings.objects.select_for_update().get_or_create(
        pk=BusinessSettings.SINGLETON_PK
    )
    recorded = audit.snapshot(settings)
    logo = fields.get("logo")
    if isinstance(logo, File):
        # The row names the file now; the file is written only once the transaction has
        # committed, so an attempt that fails or is run again leaves no file behind. The name
        # is new each time: no upload ever overwrites a file another row may name.
        stem, _dot, extension = (logo.name or "logo").rpartition(".")
        fields["logo"] = f"logo/{stem or 'logo'}-{uuid.uuid4().hex[:12]}.{extension}"
        content = ContentFile(b"".join(logo.chunks()))  # at most 1 MB (the form's check)
        transaction.on_commit(functools.partial(default_storage.save, fields["logo"], content))
    before = {name: getattr(settings, name) for name in fields}
    for name, value in fields.items():
        setattr(settings, name, value)
    validate_model(settings)
    settings.save()
    # Compared after full_clean, which turned the typed values into the fields' types.
    changed = {name for name, value in before.items() if getattr(settings, name) != value}
    if changed:
        # In this transaction: what a receiver derives from a setting (billing's spans of
        # reversed payments from the time zone) commits with it or not at all.
        business_settings_changed.send(sender=BusinessSettings, settings=settings, changed=changed)
    audit.changed(settings, recorded)
    return settings


class TaxFields(TypedDict, total=False):
    """What a caller may set on a tax."""

    label: str
    rate: Decimal | str
    number: str
    is_active: bool
    in_default_set: bool
    position: int


TAX_FIELDS = frozenset(TaxFields.__annotations__)


@operation
def create_tax(*, acting_user: User | None, **fields: Unpack[TaxFields]) -> Tax:
    """A new tax the business charges; it goes on documents made from now on."""
    ensure_permitted(acting_user, "settings_app.add_tax", _("add taxes"))
    tax = Tax(**_tax_values(fields))
    if "position" not in fields:
        tax.position = (Tax.objects.aggregate(last=Max("position"))["last"] or 0) + 1
    _save_tax(tax)
    audit.created(tax)
    return tax


@operation
def update_tax(*, tax: Tax, acting_user: User | None, **fields: Unpack[TaxFields]) -> Tax:
    """Change a tax. Documents already made keep the label, rate and number they copied;
    only documents made from now on take the new ones."""
    ensure_permitted(acting_user, "settings_app.change_tax", _("change taxes"))
    tax = Tax.objects.select_for_update().get(pk=tax.pk)
    before = audit.snapshot(tax)
    for name, value in _tax_values(fields).items():
        setattr(tax, name, value)
    _save_tax(tax)
    audit.changed(tax, before)
    return tax


def _tax_values(fields: TaxFields) -> dict[str, Any]:
    values: dict[str, Any] = {name: fields[name] for name in TAX_FIELDS & fields.keys()}  # type: ignore[literal-required]
    for name in ("label", "number"):
        if isinstance(values.get(name), str):
            values[name] = values[name].strip()
    if "rate" in values:
        # The same words for a rate as for every number a user types (otb.numbers).
        try:
            values["rate"] = plain_decimal(
                values["rate"], label=_("Rate (%)"), decimal_places=4, maximum=Decimal(100)
            )
        except NumberRefused as exc:
            raise InvalidInput.single("rate", str(exc)) from None
    return values


def _save_tax(tax: Tax) -> None:
    """full_clean says what is wrong (a label already used, a rate above 100); another
    request taking the label since is the same answer, not a server error."""
    validate_model(tax)
    try:
        with transaction.atomic():
            tax.save()
    except IntegrityError:
        raise InvalidInput.single(
            "label", _("Label: %(label)s is already a tax.") % {"label": tax.label}
        ) from None
