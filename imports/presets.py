"""Column mappings for the files other products write, found by their headers.

Where each product's column names come from (docs/imports-research.md has the detail):

- Invoice Ninja v5, the client and product CSV exports: the default report keys of
  ``app/Export/CSV/BaseExport.php`` (``$client_report_keys``), the headers of
  ``app/Export/CSV/ClientExport.php`` (``$entity_keys``, lines 38-81) and
  ``app/Export/CSV/ProductExport.php``, in the English of ``lang/en/texts.php``
  (invoiceninja/invoiceninja@a148eec09bd1283db55112cbdfe26788bc234974). Money is in major
  units; the country is its official name ("Federal Republic of Germany").
- Crater has no CSV export (crater-invoice-inc/crater@05d5ce26, master). Its customer
  columns are those of the customer import of pull request #1049
  (``app/Imports/CustomerImport.php``, lines 28-80, at 80310348), the only CSV layout in its
  code; its items' are the item API's fields (``app/Http/Resources/ItemResource.php``, and
  ``unit_name`` of ``ItemsController::index``), prices in cents.
- Our own template: the columns of our export's clients.csv and services.csv (a round
  trip), with an opening balance column; and client, opening_balance, currency.

A preset matches a file when every header of its ``signature`` is in the file (any case,
spaces and underscores alike). Columns it names that the file lacks are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Preset:
    name: str
    label: Promise
    kind: str
    columns: dict[str, str]
    """Header → target."""
    signature: tuple[str, ...]

    def template(self) -> list[str]:
        """A header row of this layout: its mapped columns, then the rest of its signature."""
        return list(dict.fromkeys([*self.columns, *self.signature]))


def normalised(header: str) -> str:
    """ "Billing_Country", "billing country" and "BILLING COUNTRY" alike."""
    return re.sub(r"[\s_]+", " ", header.strip().lstrip("\ufeff")).casefold()


PRESETS: tuple[Preset, ...] = (
    Preset(
        "invoiceninja-clients",
        _("Invoice Ninja client export"),
        "clients",
        {
            "Name": "name",
            "Number": "code",
            "Balance": "opening_balance",
            "Client Currency": "currency",
            "Private Notes": "notes",
            "Client Phone": "phone",
            "Street": "address",
            "Apt/Suite": "address",
            "City": "address",
            "State/Province": "address",
            "Postal Code": "address",
            "Country": "country",
            "VAT Number": "tax_number",
            "Contact Phone": "phone",
            "First Name": "contact_person",
            "Last Name": "contact_person",
            "Email": "email",
            "Payment Balance": "opening_credit",
            "Credit Balance": "opening_credit",
        },
        signature=("Name", "Client Currency", "Paid to Date", "VAT Number"),
    ),
    Preset(
        "invoiceninja-products",
        _("Invoice Ninja product export"),
        "services",
        {
            "Product": "code",
            "Notes": "description",
            "Price": "unit_price",
            "Tax Rate 1": "tax_rate",
            "Tax Rate 2": "tax_rate",
            "Tax Rate 3": "tax_rate",
        },
        signature=("Product", "Notes", "Cost", "Price", "Tax Rate 1"),
    ),
    Preset(
        "crater-customers",
        _("Crater customers"),
        "clients",
        {
            "name": "name",
            "email": "email",
            "currency": "currency",
            "phone": "phone",
            "primary_contact_name": "contact_person",
            "billing_address_street_1": "address",
            "billing_address_street_2": "address",
            "billing_city": "address",
            "billing_state": "address",
            "billing_zip": "address",
            "billing_country": "country",
            "billing_phone": "phone",
        },
        signature=("name", "currency", "billing_address_street_1", "billing_country"),
    ),
    Preset(
        "crater-items",
        _("Crater items"),
        "services",
        {
            "name": "name",
            "description": "description",
            "price": "unit_price_cents",
            "unit_name": "unit",
        },
        signature=("name", "price", "unit_name"),
    ),
    Preset(
        "otb-clients",
        _("OTB Billing clients (our template and export)"),
        "clients",
        {
            "code": "code",
            "name": "name",
            "contact_person": "contact_person",
            "email": "email",
            "phone": "phone",
            "address": "address",
            "country": "country",
            "tax_number": "tax_number",
            "tax_exempt": "tax_exempt",
            "currency": "currency",
            "taxes": "taxes",
            "active": "active",
            "opening_balance": "opening_balance",
        },
        signature=("code", "name", "country", "tax_number", "currency"),
    ),
    Preset(
        "otb-services",
        _("OTB Billing services (our template and export)"),
        "services",
        {
            "code": "code",
            "name": "name",
            "description": "description",
            "unit": "unit",
            "unit_price": "unit_price",
            "taxable": "taxable",
            "taxes": "taxes",
            "active": "active",
        },
        signature=("code", "name", "unit", "unit_price", "taxable"),
    ),
    Preset(
        "otb-balances",
        _("OTB Billing opening balances (our template)"),
        "balances",
        {"client": "client", "opening_balance": "opening_balance", "currency": "currency"},
        signature=("client", "opening_balance"),
    ),
)


def template(kind: str) -> Preset:
    """Our own template of a kind: its columns are a blank file's header."""
    return next(
        preset for preset in PRESETS if preset.kind == kind and preset.name.startswith("otb-")
    )


def detect(kind: str, headers: tuple[str, ...]) -> Preset | None:
    """The preset of ``kind`` whose signature the headers hold (the one naming most of
    them when several do)."""
    present = {normalised(header) for header in headers}
    fitting = [
        preset
        for preset in PRESETS
        if preset.kind == kind and {normalised(h) for h in preset.signature} <= present
    ]
    return max(fitting, key=lambda preset: len(preset.columns), default=None)


def detect_other(kind: str, headers: tuple[str, ...]) -> Preset | None:
    """A product's preset of another kind than ``kind`` that the headers fit, when none of
    ``kind`` does: an Invoice Ninja client export uploaded as services."""
    if detect(kind, headers) is not None:
        return None
    for other in sorted({preset.kind for preset in PRESETS} - {kind}):
        found = detect(other, headers)
        if found is not None:
            return found
    return None


def mapping_of(preset: Preset, headers: tuple[str, ...]) -> dict[str, str]:
    """The preset's mapping in the file's own spelling of its headers."""
    wanted = {normalised(header): target for header, target in preset.columns.items()}
    return {
        header: wanted[normalised(header)] for header in headers if normalised(header) in wanted
    }
