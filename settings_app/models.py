import zoneinfo
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
)
from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from otb.countries import CountryCodeValidator
from otb.currencies import CURRENCY_CHOICES
from otb.fields import DecimalField
from otb.numbers import plain_text
from otb.secrets import EncryptedTextField

from .templating import (
    INVOICE_PLACEHOLDERS,
    QUOTE_PLACEHOLDERS,
    RECEIPT_PLACEHOLDERS,
    REMINDER_PLACEHOLDERS,
    braced,
    check_placeholders,
    check_subject_placeholders,
    without_link,
)

COUNTRY_CODE_VALIDATOR = CountryCodeValidator()
# Not ending in a digit: with "A-1" as prefix, A-1 + 0001 would read like A- + 10001.
INVOICE_PREFIX_VALIDATOR = RegexValidator(
    r"^([A-Za-z0-9/_-]{0,11}[A-Za-z/_-])?$",
    _("Use at most 12 letters, digits, dashes, slashes or underscores, not ending in a digit."),
)
# The portal's and document links' accent colour (Bootstrap's blue by default).
# An account name of the accounting exports (SPEC: Exports and imports): segments joined by
# ":" (hledger's, ledger's and QuickBooks' sub-accounts), each of words separated by single
# spaces (two spaces end an account name in a journal); no ";" (a comment), no brackets or
# parentheses (virtual postings), no "@" or "=" (prices and assertions).
_ACCOUNT_WORDS = r"[^\s:;()\[\]@=*!]+(?: [^\s:;()\[\]@=*!]+)*"
ACCOUNT_NAME_VALIDATOR = RegexValidator(
    rf"^{_ACCOUNT_WORDS}(?::{_ACCOUNT_WORDS})*\Z",
    _(
        "Enter an account name like “assets:receivable”: words separated by single spaces, "
        "parts joined by a colon, without ; ( ) [ ] @ = * or !."
    ),
    code="invalid_account",
)


ACCOUNT_FIELDS = (
    "account_receivable",
    "account_income",
    "account_tax",
    "account_money_received",
    "account_adjustments",
    "account_exchange",
    "account_conversion",
    "account_opening",
)


ACCOUNT_NAME_MAX_LENGTH = 100


def account_field(verbose_name, default: str, help_text) -> models.TextField:
    """An account name. TEXT, not VARCHAR: MariaDB counts a VARCHAR's largest size against
    the row's 8 KB, and this one row of settings is near it (a table rebuild, as an ALTER
    of another column may need, would be refused)."""
    return models.TextField(
        verbose_name,
        max_length=ACCOUNT_NAME_MAX_LENGTH,
        default=default,
        validators=[MaxLengthValidator(ACCOUNT_NAME_MAX_LENGTH), ACCOUNT_NAME_VALIDATOR],
        help_text=help_text,
    )


DEFAULT_BRAND_COLOUR = "#0D6EFD"
BRAND_COLOUR_PATTERN = r"#[0-9A-Fa-f]{6}"
BRAND_COLOUR_VALIDATOR = RegexValidator(
    rf"^{BRAND_COLOUR_PATTERN}\Z",
    _("Give a colour as # and six hexadecimal digits, such as #0D6EFD."),
)


def validate_one_line(value: str) -> None:
    """Subjects and names go into mail headers, where a line break would start a new header
    (header injection)."""
    if any(char in value for char in "\r\n\x00"):
        raise ValidationError(_("Must be one line, without line breaks."), code="line_break")


DEFAULT_INVOICE_SUBJECT = "Invoice {invoice_number} from {business_name}"
DEFAULT_INVOICE_BODY = """Dear {contact_person},

please find attached invoice {invoice_number} for {total}, due on {due_date}.

{taxes}

You can also read it and download it here:
{link}

Thank you for your business.

{business_name}
"""
DEFAULT_QUOTE_SUBJECT = "Quote {quote_number} from {business_name}"
DEFAULT_QUOTE_BODY = """Dear {contact_person},

please find attached our quote {quote_number} for {total}, valid until {valid_until}.

You can read it, and accept or decline it, here:
{link}

{business_name}
"""
DEFAULT_RECEIPT_SUBJECT = "Payment received: thank you"
DEFAULT_RECEIPT_BODY = """Dear {contact_person},

we received your payment of {payment_amount} on {payment_date} ({payment_method}) for \
invoice {invoice_number}. Balance still due on it: {balance_due}.

Thank you,
{business_name}
"""


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not a known time zone; use a name such as America/Toronto."),
            params={"value": value},
        )


class BusinessSettings(models.Model):
    """The business's own settings: one row (pk 1), edited by an administrator.

    Deployment settings (database, secret key, hosts) are not here: they come from the
    environment. The SMTP password is write-only: no page shows it back.
    """

    SINGLETON_PK = 1

    # Not AUTO_INCREMENT: MariaDB refuses a CHECK on such a column, and there is one row.
    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_PK, editable=False)

    # Business identity
    business_name = models.CharField(_("business name"), max_length=200, default="My Business")
    slogan = models.CharField(_("slogan"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    address = models.TextField(_("address"), blank=True)
    website = models.URLField(_("website"), blank=True)
    registration_number = models.CharField(_("registration number"), max_length=100, blank=True)
    logo = models.ImageField(_("logo"), upload_to="logo/", blank=True)
    brand_colour = models.CharField(
        _("brand colour"),
        max_length=7,
        default=DEFAULT_BRAND_COLOUR,
        validators=[BRAND_COLOUR_VALIDATOR],
        help_text=_(
            "The colour of the client portal's and document links' headings and buttons, "
            "as #RRGGBB (such as #0D6EFD)."
        ),
    )

    # Tax: the taxes themselves are rows of Tax; these are the rules of the default set.
    local_country = models.CharField(
        _("local country"),
        max_length=2,
        default="CA",
        validators=[COUNTRY_CODE_VALIDATOR],
        help_text=_("Two-letter code of the country the business charges tax in."),
    )
    tax_local_clients_only = models.BooleanField(
        _("apply tax only to local clients"), default=False
    )

    # Invoice behaviour
    invoice_number_prefix = models.CharField(
        _("invoice number prefix"),
        max_length=12,
        default="INV-",
        blank=True,
        validators=[INVOICE_PREFIX_VALIDATOR],
    )
    credit_note_number_prefix = models.CharField(
        _("credit note number prefix"),
        max_length=12,
        default="CN-",
        blank=True,
        validators=[INVOICE_PREFIX_VALIDATOR],
        help_text=_("Credit notes have their own series: CN-0001, CN-0002…"),
    )
    quote_number_prefix = models.CharField(
        _("quote number prefix"),
        max_length=12,
        default="Q-",
        blank=True,
        validators=[INVOICE_PREFIX_VALIDATOR],
        help_text=_("Quotes have their own series, given when one is first sent: Q-0001…"),
    )
    quote_valid_days = models.PositiveSmallIntegerField(
        _("quotes valid for (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=_("A new quote's “valid until” date: this many days after it is sent."),
    )
    quote_terms_text = models.TextField(
        _("quote terms"),
        blank=True,
        default="Prices are valid until the date above. Work starts once the quote is accepted.",
        help_text=_("The terms a new quote starts with; the client reads them before accepting."),
    )
    document_link_days = models.PositiveSmallIntegerField(
        _("document links valid for (days)"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=_(
            "A link in an e-mail opens its one document without a login for this many days."
        ),
    )
    # Accounting exports: the accounts of the journal (and QuickBooks' IIF)
    account_receivable = account_field(
        _("receivable account"),
        "assets:receivable",
        _("Each client's account is this followed by its code: assets:receivable:ACME."),
    )
    account_income = account_field(
        _("income account"), "income:services", _("Sales, net of tax, discounts and credits.")
    )
    account_tax = account_field(
        _("tax account"),
        "liabilities:tax",
        _("Each tax's account is this followed by its label: liabilities:tax:gst."),
    )
    account_money_received = account_field(
        _("money received account"),
        "assets:bank",
        _("Where payments go in and refunds go out."),
    )
    account_adjustments = account_field(
        _("manual credits and debits account"),
        "equity:adjustments",
        _("The other side of a manual credit or debit on a client's account."),
    )
    account_exchange = account_field(
        _("exchange differences account"),
        "income:exchange differences",
        _("Realised exchange gains (and losses) on payments in another currency."),
    )
    account_conversion = account_field(
        _("currency conversion account"),
        "equity:conversion",
        _("The other side of an exchange difference, in the base currency."),
    )
    account_opening = account_field(
        _("opening balances account"),
        "equity:opening balances",
        _("The other side of what clients owed when an export's range starts."),
    )
    xero_account_code = models.CharField(
        _("Xero sales account code"),
        max_length=10,
        default="200",
        validators=[RegexValidator(r"^[0-9A-Za-z.-]+\Z", _("Enter letters, digits, . or -."))],
        help_text=_("The AccountCode of every line in the Xero export."),
    )

    portal_enabled = models.BooleanField(
        _("client portal"),
        default=True,
        help_text=_(
            "Clients' contacts sign in at /portal/ with a link e-mailed to an address on file "
            "and see their own documents. Untick to turn the portal off (document links in "
            "e-mails still open their one document)."
        ),
    )
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"), default=30, validators=[MaxValueValidator(3650)]
    )
    payment_terms_text = models.TextField(
        _("payment terms text"), blank=True, default="Payment due within 30 days."
    )
    invoice_footer = models.TextField(_("invoice footer"), blank=True)
    default_currency = models.CharField(
        _("base currency"),
        max_length=3,
        choices=CURRENCY_CHOICES,
        default="CAD",
        help_text=_(
            "The currency of the books: new clients default to it, and documents in other "
            "currencies are converted into it at the rate of their date. It cannot change "
            "once a document has been issued."
        ),
    )
    show_base_equivalent = models.BooleanField(
        _("show the base-currency equivalent"),
        default=True,
        help_text=_(
            "On documents in another currency, print the exchange rate and the subtotal, "
            "each tax and the total in the base currency (many tax authorities ask for "
            "the tax in the local currency)."
        ),
    )
    lock_issued_invoices = models.BooleanField(
        _("lock invoices once issued"),
        default=False,
        help_text=_("For jurisdictions where an issued invoice must never change."),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="America/Toronto",
        validators=[validate_time_zone],
        help_text=_('Decides what "today" is for issue dates, due dates and overdue.'),
    )

    # E-mail
    smtp_host = models.CharField(_("SMTP host"), max_length=255, blank=True)
    smtp_port = models.PositiveIntegerField(
        _("SMTP port"), default=587, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    smtp_username = models.CharField(_("SMTP username"), max_length=255, blank=True)
    # Encrypted at rest with OTB_ENCRYPTION_KEYS (otb/secrets.py).
    smtp_password = EncryptedTextField(
        _("SMTP password"), blank=True, validators=[MaxLengthValidator(255)]
    )
    smtp_from_email = models.EmailField(_("from address"), blank=True)
    smtp_from_name = models.CharField(
        _("from name"), max_length=200, blank=True, validators=[validate_one_line]
    )
    smtp_use_tls = models.BooleanField(_("use STARTTLS"), default=True)
    smtp_use_ssl = models.BooleanField(_("use SSL/TLS"), default=False)

    # E-mail messages (settings_app/templating.py lists the placeholders)
    invoice_email_subject = models.CharField(
        _("invoice e-mail subject"),
        max_length=200,
        default=DEFAULT_INVOICE_SUBJECT,
        validators=[validate_one_line],
        help_text=format_lazy(
            _("Placeholders: {names}"), names=braced(without_link(INVOICE_PLACEHOLDERS))
        ),
    )
    invoice_email_body = models.TextField(
        _("invoice e-mail text"),
        default=DEFAULT_INVOICE_BODY,
        help_text=_(
            "The invoice PDF is attached; {link} is the client's own link to read it (added at "
            "the end when the text has none). Same placeholders as the subject."
        ),
    )
    quote_email_subject = models.CharField(
        _("quote e-mail subject"),
        max_length=200,
        default=DEFAULT_QUOTE_SUBJECT,
        validators=[validate_one_line],
        help_text=format_lazy(_("Placeholders: {names}"), names=braced(QUOTE_PLACEHOLDERS)),
    )
    quote_email_body = models.TextField(
        _("quote e-mail text"),
        default=DEFAULT_QUOTE_BODY,
        help_text=_(
            "The quote PDF is attached; {link} is the client's own link to read, accept or "
            "decline it. Same placeholders as the subject."
        ),
    )
    send_payment_receipts = models.BooleanField(
        _("e-mail a receipt when a payment is confirmed"),
        default=False,
        help_text=_("To the client's e-mail address; not for payments from client credit."),
    )
    receipt_email_subject = models.CharField(
        _("receipt e-mail subject"),
        max_length=200,
        default=DEFAULT_RECEIPT_SUBJECT,
        validators=[validate_one_line],
        help_text=format_lazy(_("Placeholders: {names}"), names=braced(RECEIPT_PLACEHOLDERS)),
    )
    receipt_email_body = models.TextField(_("receipt e-mail text"), default=DEFAULT_RECEIPT_BODY)
    send_reminders = models.BooleanField(
        _("send payment reminders"),
        default=False,
        help_text=_(
            "Each reminder stage once per unpaid invoice, by the daily maintenance "
            "(manage.py send_reminders)."
        ),
    )

    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("business settings")
        verbose_name_plural = _("business settings")
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="business_settings_singleton"),
            models.CheckConstraint(
                condition=~(models.Q(smtp_use_tls=True) & models.Q(smtp_use_ssl=True)),
                name="business_settings_tls_xor_ssl",
            ),
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name).capitalize()

    def _overlapping_accounts(self) -> dict[str, Any]:
        """The accounts of the exports must be apart: none the same as another, none under
        another (a client's receivable is the receivable account followed by its code, a
        tax's the tax account followed by its label, so an account under one of those
        would be added to it)."""
        errors: dict[str, Any] = {}
        seen: list[tuple[str, str]] = []
        for field in ACCOUNT_FIELDS:
            name = getattr(self, field)
            for other_field, other in seen:
                if name == other or name.startswith(other + ":") or other.startswith(name + ":"):
                    errors[field] = _(
                        "Use an account apart from the %(other)s (%(name)s): not the same, "
                        "and neither under the other."
                    ) % {
                        "other": cast(models.Field, self._meta.get_field(other_field)).verbose_name,
                        "name": other,
                    }
                    break
            seen.append((field, name))
        return errors

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.smtp_use_tls and self.smtp_use_ssl:
            errors["smtp_use_ssl"] = _("Choose STARTTLS or SSL/TLS, not both.")
        if self.quote_number_prefix in (
            self.invoice_number_prefix,
            self.credit_note_number_prefix,
        ):
            errors["quote_number_prefix"] = _(
                "Use another prefix than the invoices' and credit notes': a quote must never "
                "share a number with them."
            )
        errors.update(self._overlapping_accounts())
        if self.credit_note_number_prefix == self.invoice_number_prefix:
            errors["credit_note_number_prefix"] = _(
                "Use another prefix than the invoices' (%(prefix)s): a credit note and an "
                "invoice must never share a number."
            ) % {"prefix": self.invoice_number_prefix or _("none")}
        for field, allowed, check in (
            ("invoice_email_subject", INVOICE_PLACEHOLDERS, check_subject_placeholders),
            ("invoice_email_body", INVOICE_PLACEHOLDERS, check_placeholders),
            ("quote_email_subject", QUOTE_PLACEHOLDERS, check_subject_placeholders),
            ("quote_email_body", QUOTE_PLACEHOLDERS, check_placeholders),
            ("receipt_email_subject", RECEIPT_PLACEHOLDERS, check_placeholders),
            ("receipt_email_body", RECEIPT_PLACEHOLDERS, check_placeholders),
        ):
            try:
                check(getattr(self, field), allowed)
            except ValidationError as exc:
                errors[field] = exc
        if errors:
            raise ValidationError(errors)

    @property
    def smtp_configured(self) -> bool:
        """Enough to try sending: a server and an address to send from."""
        return bool(self.smtp_host and self.smtp_from_email)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class ReminderStage(models.Model):
    """One payment reminder: sent once per unpaid invoice, ``days_from_due`` days after its
    due date (negative: before it). The outbox keeps one message per invoice and stage."""

    name = models.CharField(_("name"), max_length=100)
    days_from_due = models.SmallIntegerField(
        _("days from the due date"),
        unique=True,
        validators=[MinValueValidator(-365), MaxValueValidator(3650)],
        help_text=_("Negative: before the due date (-3 is three days before); 7 is a week after."),
    )
    subject = models.CharField(
        _("subject"),
        max_length=200,
        validators=[validate_one_line],
        help_text=format_lazy(
            _("Placeholders: {names}"), names=braced(without_link(REMINDER_PLACEHOLDERS))
        ),
    )
    body = models.TextField(
        _("text"),
        help_text=_(
            "Same placeholders as the subject, and {link}: the client's own link to the invoice "
            "(added at the end when the text has none)."
        ),
    )
    attach_pdf = models.BooleanField(_("attach the invoice PDF"), default=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["days_from_due"]
        verbose_name = _("reminder stage")
        verbose_name_plural = _("reminder stages")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        for field, check in (
            ("subject", check_subject_placeholders),
            ("body", check_placeholders),
        ):
            try:
                check(getattr(self, field), REMINDER_PLACEHOLDERS)
            except ValidationError as exc:
                errors[field] = exc
        if errors:
            raise ValidationError(errors)


class TaxQuerySet(models.QuerySet):
    def default_set(self) -> "TaxQuerySet":
        """The business's default set, as a new document copies it (SPEC: Several taxes)."""
        return self.filter(is_active=True, in_default_set=True)


class Tax(models.Model):
    """A tax the business charges (GST, QST, PST, HST, VAT): a document copies its label,
    rate and registration number when it is made, so a change here never changes one."""

    label = models.CharField(
        _("label"), max_length=50, validators=[validate_one_line], help_text=_("e.g. GST, QST")
    )
    rate = DecimalField(
        _("rate (%)"),
        max_digits=7,
        decimal_places=4,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    number = models.CharField(
        _("registration number"),
        max_length=100,
        blank=True,
        validators=[validate_one_line],
        help_text=_("Printed beside the tax on every document, e.g. 123456789 RT0001."),
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive taxes are never put on new documents.")
    )
    in_default_set = models.BooleanField(
        _("in the default set"),
        default=True,
        help_text=_("Charged to every client that uses the default set."),
    )
    position = models.PositiveSmallIntegerField(
        _("order"), default=0, help_text=_("Taxes are listed on documents in this order.")
    )

    objects = TaxQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("tax")
        verbose_name_plural = _("taxes")
        constraints = [
            models.UniqueConstraint(fields=["label"], name="tax_label_unique"),
            models.CheckConstraint(
                condition=models.Q(rate__gte=0, rate__lte=100), name="tax_rate_0_to_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} {format_rate(self.rate)} %"


def format_rate(rate: Any) -> str:
    """9.9750 -> "9.975": a rate as documents write it."""
    return plain_text(Decimal(rate))
