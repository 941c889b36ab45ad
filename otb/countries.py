"""Countries: ISO 3166-1 alpha-2 codes and their names, from django-countries (kept up to
date with the standard, names translated), for the business's local country and each
client's. Here, below every app, like otb.currencies."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _
from django_countries import countries


@deconstructible
class CountryCodeValidator:
    """An ISO 3166-1 alpha-2 code in capitals: "ZZ" or "Canada" are refused."""

    message = _("Enter an ISO 3166 two-letter country code in capitals, such as CA or DE.")

    def __call__(self, value: str) -> None:
        if not (isinstance(value, str) and value.isupper() and value in countries):
            raise ValidationError(self.message, code="invalid_country")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CountryCodeValidator)


def country_name(code: str) -> str:
    """ "Germany" for "DE", in the active language; the code itself when unknown."""
    return str(countries.name(code)) or code
