"""Writes to the business settings."""

from __future__ import annotations

import functools
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from audit import recording as audit
from otb.operations import ensure_permitted, operation
from otb.text import validate_model

from .models import BusinessSettings
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
    tax_label: str
    tax_rate: Decimal | str
    tax_number: str
    local_country: str
    tax_local_clients_only: bool
    invoice_number_prefix: str
    payment_terms_days: int
    payment_terms_text: str
    invoice_footer: str
    default_currency: str
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
    send_payment_receipts: bool
    receipt_email_subject: str
    receipt_email_body: str
    send_reminders: bool


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
