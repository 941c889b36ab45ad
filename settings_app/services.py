"""Writes to the business settings."""

import functools
import uuid

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from otb.operations import InvalidInput, ensure_permitted, operation

from .models import BusinessSettings
from .signals import business_settings_changed

SETTINGS_FIELDS = {
    field.name
    for field in BusinessSettings._meta.get_fields()
    if field.concrete and field.editable and field.name not in {"id", "updated_at"}
}


@operation
def update_business_settings(*, acting_user, **fields) -> BusinessSettings:
    """Change the settings. ``smtp_password`` is only ever written: leave it out (or give
    None) to keep the stored one, give "" to clear it. Existing invoices keep the tax,
    currency and terms they were created with. The apps that depend on a setting hear of
    its change by ``business_settings_changed``, in this transaction."""
    ensure_permitted(acting_user, "settings_app.change_businesssettings", _("change the settings"))
    unknown = set(fields) - SETTINGS_FIELDS
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
    if fields.get("smtp_password") is None:
        fields.pop("smtp_password", None)
    settings, _created = BusinessSettings.objects.select_for_update().get_or_create(
        pk=BusinessSettings.SINGLETON_PK
    )
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
    try:
        settings.full_clean()
    except ValidationError as exc:
        raise InvalidInput.from_validation_error(exc, BusinessSettings) from None
    settings.save()
    # Compared after full_clean, which turned the typed values into the fields' types.
    changed = {name for name, value in before.items() if getattr(settings, name) != value}
    if changed:
        # In this transaction: what a receiver derives from a setting (billing's spans of
        # reversed payments from the time zone) commits with it or not at all.
        business_settings_changed.send(sender=BusinessSettings, settings=settings, changed=changed)
    return settings
