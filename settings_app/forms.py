"""The settings page form. Like every office form it only turns what was typed into values;
``update_business_settings`` validates and saves them."""

import codecs
import io
import re
import zoneinfo
from xml.etree import ElementTree

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from PIL import Image

from otb.forms import OperationModelForm

from .models import ACCOUNT_FIELDS, BusinessSettings, Tax
from .services import SETTINGS_FIELDS

LOGO_MAX_BYTES = 1024 * 1024
LOGO_TOO_LARGE = _("The logo is larger than 1 MB; upload a smaller image.")
LOGO_NOT_AN_IMAGE = _("The logo must be a PNG, JPEG or SVG image.")
LOGO_SVG_UNSAFE = _(
    "The SVG logo contains scripts, event handlers or external content; upload a plain image."
)
# Checked from the image's header, before any pixel is decoded: a small file can hold a huge
# image that takes seconds and hundreds of MB to draw into every PDF.
LOGO_MAX_SIDE = 2000
LOGO_TOO_MANY_PIXELS = _(
    "The logo is %(width)d × %(height)d pixels; upload one at most %(max)d × %(max)d."
)


def _local_name(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()


BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _encoding_of(content: bytes) -> str:
    for bom, encoding in BYTE_ORDER_MARKS:
        if content.startswith(bom):
            return encoding
    # No mark: "<" in UTF-16 without one is a zero byte and "<", either way round.
    if content[:2] == b"<\x00":
        return "utf-16-le"
    if content[:2] == b"\x00<":
        return "utf-16-be"
    return "utf-8"


def _svg_text(content: bytes) -> str:
    """The SVG's text, decoded as XML says (a byte-order mark, else UTF-8): the checks below
    must read what the XML parser and WeasyPrint will read, not the bytes of a UTF-16 file."""
    encoding = _encoding_of(content)
    try:
        text = content.decode(encoding)
    except UnicodeDecodeError:
        raise ValidationError(LOGO_NOT_AN_IMAGE, code="not_an_image") from None
    # The text is parsed as text from here: its declaration must not name another encoding.
    return re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1)


def _check_svg(content: bytes) -> None:
    """A plain SVG drawing: well-formed XML with an <svg> root, no scripts, no event
    handlers, no DTD (which could define entities that expand without end), no image but
    a raster one inside (a nested SVG would escape these checks)."""
    text = _svg_text(content)
    lowered = text.lower()
    if "<!doctype" in lowered or "<!entity" in lowered:
        raise ValidationError(LOGO_SVG_UNSAFE, code="unsafe_svg")
    try:
        root = ElementTree.fromstring(text)
    except (ElementTree.ParseError, ValueError):
        raise ValidationError(LOGO_NOT_AN_IMAGE, code="not_an_image") from None
    if _local_name(root.tag) != "svg":
        raise ValidationError(LOGO_NOT_AN_IMAGE, code="not_an_image")
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if _local_name(element.tag) in {"script", "foreignobject", "iframe", "embed", "object"}:
            raise ValidationError(LOGO_SVG_UNSAFE, code="unsafe_svg")
        for attribute, value in element.attrib.items():
            name = _local_name(attribute)
            if name.startswith("on"):
                raise ValidationError(LOGO_SVG_UNSAFE, code="unsafe_svg")
            if name == "href" and not _safe_reference(value):
                raise ValidationError(LOGO_SVG_UNSAFE, code="unsafe_svg")


def _safe_reference(value: str) -> bool:
    """A link inside the drawing (``#id``), or a PNG or JPEG image written into it."""
    value = value.strip().lower()
    return value.startswith(("#", "data:image/png", "data:image/jpeg", "data:image/jpg"))


def logo_extension(upload) -> str:
    """Check an uploaded logo by its content, not its name, and return the extension it
    is stored under: "png", "jpg" or "svg"."""
    if upload.size > LOGO_MAX_BYTES:
        raise ValidationError(LOGO_TOO_LARGE, code="too_large")
    upload.seek(0)
    content = upload.read(LOGO_MAX_BYTES + 1)
    upload.seek(0)
    if len(content) > LOGO_MAX_BYTES:
        raise ValidationError(LOGO_TOO_LARGE, code="too_large")
    if content.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
        try:
            with Image.open(io.BytesIO(content)) as image:  # reads the header only
                kind = image.format
                width, height = image.size
                if max(width, height) <= LOGO_MAX_SIDE:
                    image.verify()
        except Exception:  # Pillow raises many types for a broken file
            raise ValidationError(LOGO_NOT_AN_IMAGE, code="not_an_image") from None
        if max(width, height) > LOGO_MAX_SIDE:
            raise ValidationError(
                LOGO_TOO_MANY_PIXELS % {"width": width, "height": height, "max": LOGO_MAX_SIDE},
                code="too_many_pixels",
            )
        if kind == "PNG":
            return "png"
        if kind == "JPEG":
            return "jpg"
        raise ValidationError(LOGO_NOT_AN_IMAGE, code="not_an_image")
    _check_svg(content)
    return "svg"


# The settings in the sections the page and the back office both show them in.
SECTIONS = (
    (
        _("Business identity"),
        (
            "business_name",
            "slogan",
            "email",
            "phone",
            "address",
            "website",
            "registration_number",
            "logo",
            "remove_logo",
            "brand_colour",
        ),
    ),
    (
        _("Tax"),
        ("local_country", "tax_local_clients_only"),
    ),
    (
        _("Invoices"),
        (
            "invoice_number_prefix",
            "credit_note_number_prefix",
            "payment_terms_days",
            "payment_terms_text",
            "invoice_footer",
            "default_currency",
            "show_base_equivalent",
            "lock_issued_invoices",
            "time_zone",
        ),
    ),
    (
        _("Quotes, document links and the client portal"),
        (
            "quote_number_prefix",
            "quote_valid_days",
            "quote_terms_text",
            "document_link_days",
            "portal_enabled",
        ),
    ),
    (
        _("E-mail (SMTP)"),
        (
            "smtp_host",
            "smtp_port",
            "smtp_username",
            "smtp_password",
            "clear_smtp_password",
            "smtp_from_email",
            "smtp_from_name",
            "smtp_use_tls",
            "smtp_use_ssl",
        ),
    ),
    (
        _("E-mail messages"),
        (
            "invoice_email_subject",
            "invoice_email_body",
            "quote_email_subject",
            "quote_email_body",
            "send_payment_receipts",
            "receipt_email_subject",
            "receipt_email_body",
            "send_reminders",
        ),
    ),
    (
        _("Accounting exports"),
        (*ACCOUNT_FIELDS, "xero_account_code"),
    ),
)
LOGO_PREVIEW = HTML(
    "{% if business.logo %}<div class='mb-2'><img src='{{ business.logo.url }}'"
    " alt='' class='img-thumbnail' style='max-height: 6rem'></div>{% endif %}"
)


def _card(title, fields) -> Div:
    items = []
    for name in fields:
        if name == "logo":
            items.append(LOGO_PREVIEW)
        items.append(name)
    return Div(Fieldset(title, *items), css_class="card card-body mb-3")


def _time_zone_choices(current: str) -> list[tuple[str, str]]:
    zones = zoneinfo.available_timezones() | ({current} if current else set())
    return [(zone, zone) for zone in sorted(zones)]


class BusinessSettingsForm(OperationModelForm):
    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/svg+xml"}),
        help_text=_("PNG, JPEG or SVG, at most 1 MB. Leave empty to keep the current logo."),
    )
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)
    website = forms.URLField(
        label=_("Website"), required=False, assume_scheme="https", max_length=200
    )
    time_zone = forms.ChoiceField(label=_("Time zone"))
    # Write-only: the stored password is never sent back to the browser.
    smtp_password = forms.CharField(
        label=_("SMTP password"),
        required=False,
        max_length=255,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the stored password."),
    )
    clear_smtp_password = forms.BooleanField(
        label=_("Remove the stored SMTP password"), required=False
    )

    class Meta:
        model = BusinessSettings
        fields = sorted(SETTINGS_FIELDS)
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "brand_colour": forms.TextInput(attrs={"type": "color"}),
            "payment_terms_text": forms.Textarea(attrs={"rows": 2}),
            "invoice_footer": forms.Textarea(attrs={"rows": 2}),
            "invoice_email_body": forms.Textarea(attrs={"rows": 7}),
            "quote_email_body": forms.Textarea(attrs={"rows": 7}),
            "quote_terms_text": forms.Textarea(attrs={"rows": 2}),
            "receipt_email_body": forms.Textarea(attrs={"rows": 6}),
            **dict.fromkeys(ACCOUNT_FIELDS, forms.TextInput),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.pop("smtp_password", None)
        self.initial.pop("logo", None)
        self.fields["time_zone"].choices = _time_zone_choices(self.instance.time_zone)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(*(_card(title, fields) for title, fields in SECTIONS))

    def clean_logo(self):
        upload = self.files.get(self.add_prefix("logo"))
        if not upload:
            return None  # keep the current logo
        upload.name = f"logo.{logo_extension(upload)}"
        return upload

    def settings_fields(self) -> dict:
        """The keyword arguments for ``update_business_settings``."""
        data = self.cleaned_data
        fields = {name: data[name] for name in SETTINGS_FIELDS if name in data}
        if data.get("clear_smtp_password"):
            fields["smtp_password"] = ""
        elif not data.get("smtp_password"):
            fields["smtp_password"] = None  # keep the stored one
        if not data.get("logo"):
            if data.get("remove_logo"):
                fields["logo"] = ""
            else:
                fields.pop("logo", None)  # keep the current one
        return fields


class TaxForm(OperationModelForm):
    """A tax of the business, on its page under /settings/ (the operation validates)."""

    class Meta:
        model = Tax
        fields = ["label", "rate", "number", "in_default_set", "is_active", "position"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def tax_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
