"""One-line fields (names, codes, subjects, references) hold no line break and no control
character: a CR/LF in a client's name went into every e-mail subject naming the client,
and each of those messages failed."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

from .operations import InvalidInput, field_label

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def control_character_message(label: str) -> str:
    return _("%(label)s: one line of text, without line breaks or control characters.") % {
        "label": label
    }


def one_line_errors(
    instance: models.Model, *, exclude: Iterable[str] | None = None
) -> dict[str, list[str]]:
    """The CharFields of ``instance`` (one-line by their nature; TextFields may hold lines)
    whose value holds a control character, each with its message."""
    skipped = set(exclude or ())
    errors = {}
    for field in instance._meta.concrete_fields:
        # TextField is no CharField; EmailField, SlugField, URLField and the like are.
        if not isinstance(field, models.CharField) or field.name in skipped or field.choices:
            continue
        value = getattr(instance, field.attname)
        if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
            errors[field.name] = [control_character_message(field_label(instance, field.name))]
    return errors


def validate_model(instance: models.Model, *, exclude: Iterable[str] | None = None) -> None:
    """The model's own validation and the one-line rule, refusals as InvalidInput naming
    each field."""
    errors: dict[str, list[str]] = {}
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        errors = InvalidInput.from_validation_error(exc, type(instance)).errors
    for name, messages in one_line_errors(instance, exclude=exclude).items():
        errors.setdefault(name, messages)  # a field's own message, when it has one, stays
    if errors:
        raise InvalidInput(errors)
