import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from billing.money import CURRENCY_CHOICES

COUNTRY_CODE_VALIDATOR = RegexValidator(
    r"^[A-Z]{2}$", _("Enter a two-letter country code in capitals, such as CA or DE.")
)
# Not ending in a digit: with "A-1" as prefix, A-1 + 0001 would read like A- + 10001.
INVOICE_PREFIX_VALIDATOR = RegexValidator(
    r"^([A-Za-z0-9/_-]{0,11}[A-Za-z/_-])?$",
    _("Use at most 12 letters, digits, dashes, slashes or underscores, not ending in a digit."),
)


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

    # Tax
    tax_label = models.CharField(_("tax label"), max_length=50, default="Tax", blank=True)
    tax_rate = models.DecimalField(
        _("tax rate (%)"),
        max_digits=7,
        decimal_places=4,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    tax_number = models.CharField(_("tax number"), max_length=100, blank=True)
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
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"), default=30, validators=[MaxValueValidator(3650)]
    )
    payment_terms_text = models.TextField(
        _("payment terms text"), blank=True, default="Payment due within 30 days."
    )
    invoice_footer = models.TextField(_("invoice footer"), blank=True)
    default_currency = models.CharField(
        _("default currency"), max_length=3, choices=CURRENCY_CHOICES, default="CAD"
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
    smtp_password = models.CharField(_("SMTP password"), max_length=255, blank=True)
    smtp_from_email = models.EmailField(_("from address"), blank=True)
    smtp_from_name = models.CharField(_("from name"), max_length=200, blank=True)
    smtp_use_tls = models.BooleanField(_("use STARTTLS"), default=True)
    smtp_use_ssl = models.BooleanField(_("use SSL/TLS"), default=False)

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

    def clean(self) -> None:
        if self.smtp_use_tls and self.smtp_use_ssl:
            raise ValidationError({"smtp_use_ssl": _("Choose STARTTLS or SSL/TLS, not both.")})

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)
