import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from otb.fields import DecimalField, amount_field
from rates.models import rate_field
from settings_app.models import COUNTRY_CODE_VALIDATOR, validate_one_line

from .money import (
    CURRENCY_CHOICES,
    DISCOUNT_FIXED,
    DISCOUNT_NONE,
    DISCOUNT_PERCENT,
    plain_decimal,
)

CODE_VALIDATOR = RegexValidator(
    r"^[A-Z0-9][A-Z0-9_-]*$",
    _("Use capital letters, digits, dashes or underscores, starting with a letter or digit."),
)


class Client(models.Model):
    code = models.CharField(
        _("client code"),
        max_length=20,
        validators=[CODE_VALIDATOR],
        help_text=_("Short unique code, such as ACME."),
    )
    name = models.CharField(_("name"), max_length=200)
    contact_person = models.CharField(_("contact person"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    address = models.TextField(_("address"), blank=True)
    country = models.CharField(
        _("country"),
        max_length=2,
        validators=[COUNTRY_CODE_VALIDATOR],
        help_text=_("Two-letter code, such as CA."),
    )
    tax_number = models.CharField(
        _("tax or VAT number"),
        max_length=40,
        blank=True,
        validators=[validate_one_line],
        help_text=_("The client's own registration number, printed on its invoices."),
    )
    tax_exempt = models.BooleanField(
        _("tax-exempt"),
        default=False,
        help_text=_("With the default set: no tax on this client's documents."),
    )
    # SPEC: Several taxes. The default set follows the local-client and tax-exempt rules; a
    # client's own set (possibly empty: no tax) is charged as it is.
    uses_default_taxes = models.BooleanField(
        _("uses the default taxes"),
        default=True,
        help_text=_("Untick to charge this client its own taxes below (none for no tax)."),
    )
    taxes = models.ManyToManyField(
        "settings_app.Tax",
        blank=True,
        related_name="clients",
        verbose_name=_("own taxes"),
        help_text=_("Charged instead of the default set when the box above is unticked."),
    )
    default_currency = models.CharField(
        _("currency"),
        max_length=3,
        choices=CURRENCY_CHOICES,
        help_text=_("The client's invoices and account are kept in this currency."),
    )
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        constraints = [models.UniqueConstraint(fields=["code"], name="client_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("clients:detail", args=[self.code])


# The longest name and address of a client's other contact (an address: RFC 5321's path).
CONTACT_NAME_MAX_LENGTH = 200
CONTACT_EMAIL_MAX_LENGTH = 254


class ClientContact(models.Model):
    """Another address of a client's, beside its own e-mail. Which addresses a client has on
    file, and so who may sign in to its portal, is ``selectors.clients_for_address``."""

    # A client is deleted only when entered by mistake (rules.client_deletion_refusal): its
    # contacts go with it.
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("client")
    )
    name = models.CharField(_("name"), max_length=CONTACT_NAME_MAX_LENGTH, blank=True)
    email = models.EmailField(_("e-mail"), max_length=CONTACT_EMAIL_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "email"]
        verbose_name = _("other contact")
        verbose_name_plural = _("other contacts")
        constraints = [
            # Case-sensitive on SQLite; the operation compares addresses in any case.
            models.UniqueConstraint(fields=["client", "email"], name="client_contact_email_unique"),
            models.CheckConstraint(condition=~Q(email=""), name="client_contact_email_given"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


class Service(models.Model):
    code = models.CharField(_("service code"), max_length=20, validators=[CODE_VALIDATOR])
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True, help_text=_("e.g. h, pc, km"))
    # SPEC: Currencies. In the base currency; its prices in others are ServicePrice rows.
    unit_price = DecimalField(
        _("default unit price"),
        max_digits=14,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(0)],
        help_text=_(
            "In the business's base currency (the default currency of the settings). A "
            "document in another currency takes the service's price in that currency, if it "
            "has one."
        ),
    )
    taxable = models.BooleanField(_("taxable"), default=True)
    taxes = models.ManyToManyField(
        "settings_app.Tax",
        blank=True,
        related_name="services",
        verbose_name=_("taxes it carries"),
        help_text=_(
            "Leave empty to carry every tax of the document; or name them (PST not on "
            "services, say)."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("service")
        verbose_name_plural = _("services")
        constraints = [
            models.UniqueConstraint(fields=["code"], name="service_code_unique"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="service_price_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class ServicePrice(models.Model):
    """A service's unit price in a currency other than the base one: what a line of it
    takes on a document in that currency (``rules.price_from_service``)."""

    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="prices", verbose_name=_("service")
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    unit_price = DecimalField(
        _("unit price"), max_digits=14, decimal_places=4, validators=[MinValueValidator(0)]
    )

    class Meta:
        ordering = ["currency"]
        verbose_name = _("price in another currency")
        verbose_name_plural = _("prices in other currencies")
        constraints = [
            models.UniqueConstraint(
                fields=["service", "currency"], name="service_price_currency_unique"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="service_price_currency_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service.code} {self.currency} {plain_decimal(self.unit_price)}"


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Pending")
    PARTIAL = "partial", _("Partially paid")
    PAID = "paid", _("Paid")
    OVERDUE = "overdue", _("Overdue")
    CANCELLED = "cancelled", _("Cancelled")
    # SPEC: Credit notes. Issued, and its amount credited equals its total.
    CREDITED = "credited", _("Credited")


class DiscountKind(models.TextChoices):
    NONE = DISCOUNT_NONE, _("No discount")
    PERCENT = DISCOUNT_PERCENT, _("Percent of subtotal")
    FIXED = DISCOUNT_FIXED, _("Fixed amount")


class TaxBasis(models.TextChoices):
    DEFAULT = "default", _("Default taxes")
    CLIENT = "client", _("Client's own taxes")
    EXEMPT = "exempt", _("Tax-exempt")
    FOREIGN = "foreign", _("Client abroad")


HALF_CENT = Value(
    Decimal("0.005"), output_field=models.DecimalField(max_digits=4, decimal_places=3)
)

# SPEC: balance due = total − amount paid − amount credited, as a query expression: every
# sum of what is due (dashboard, available credit, reports) reads it.
BALANCE_DUE = F("total") - F("amount_paid") - F("amount_credited")


def in_base_field(verbose_name) -> DecimalField:
    """An amount in the base currency: empty until the document has a rate."""
    return amount_field(verbose_name, null=True, blank=True, default=None, editable=False)


class InBaseCurrency(models.Model):
    """The exchange rate a document froze when it was issued (base currency per unit of its
    own, its date and source) and its figures in the base currency, computed from its own
    figures by billing.money.to_base and nothing else (SPEC: Currencies and exchange rates).
    A document in the base currency has the rate 1. Empty on a draft, and on a foreign
    document issued before rates were kept until ``manage.py check_rates --fill``."""

    exchange_rate = rate_field(_("exchange rate"), null=True, blank=True, editable=False)
    rate_date = models.DateField(_("rate date"), null=True, blank=True, editable=False)
    rate_source = models.CharField(_("rate source"), max_length=100, blank=True, editable=False)
    subtotal_in_base = in_base_field(_("subtotal in the base currency"))
    discount_in_base = in_base_field(_("discount in the base currency"))
    tax_in_base = in_base_field(_("tax in the base currency"))
    total_in_base = in_base_field(_("total in the base currency"))

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        exchange_rate__isnull=True,
                        rate_date__isnull=True,
                        subtotal_in_base__isnull=True,
                        discount_in_base__isnull=True,
                        tax_in_base__isnull=True,
                        total_in_base__isnull=True,
                    )
                    | Q(
                        # Each named as present: a comparison with NULL would pass a check.
                        exchange_rate__isnull=False,
                        subtotal_in_base__isnull=False,
                        discount_in_base__isnull=False,
                        tax_in_base__isnull=False,
                        total_in_base__isnull=False,
                        exchange_rate__gt=0,
                        rate_date__isnull=False,
                        subtotal_in_base__gte=0,
                        discount_in_base__gte=0,
                        tax_in_base__gte=0,
                        # They add up (half a cent of room for SQLite's binary floats).
                        total_in_base__gte=F("subtotal_in_base")
                        - F("discount_in_base")
                        + F("tax_in_base")
                        - HALF_CENT,
                        total_in_base__lte=F("subtotal_in_base")
                        - F("discount_in_base")
                        + F("tax_in_base")
                        + HALF_CENT,
                    )
                ),
                name="%(class)s_in_base_adds_up",
            )
        ]

    @property
    def has_rate(self) -> bool:
        return self.exchange_rate is not None


class InvoiceQuerySet(models.QuerySet):
    def issued(self):
        return self.exclude(status=InvoiceStatus.DRAFT)

    def open(self):
        """Issued, not cancelled, something still due."""
        return self.filter(
            status__in=[InvoiceStatus.PENDING, InvoiceStatus.PARTIAL, InvoiceStatus.OVERDUE]
        )

    def past_due_but_not_marked(self, *, today):
        return self.filter(
            status__in=[InvoiceStatus.PENDING, InvoiceStatus.PARTIAL], due_date__lt=today
        )

    def shown_as(self, status: str, *, today):
        """The invoices whose status as of ``today`` (``with_shown_status``) is ``status``,
        as a condition on the stored columns, which an index can serve."""
        late = Q(status__in=[InvoiceStatus.PENDING, InvoiceStatus.PARTIAL], due_date__lt=today)
        if status == InvoiceStatus.OVERDUE:
            return self.filter(Q(status=InvoiceStatus.OVERDUE) | late)
        if status in (InvoiceStatus.PENDING, InvoiceStatus.PARTIAL):
            return self.filter(Q(status=status) & ~late)
        return self.filter(status=status)

    def with_shown_status(self, *, today):
        """Annotate ``shown_status``: the status as of ``today``. The stored one moves to
        overdue only when the daily command runs; pages show the derived one."""
        return self.annotate(
            shown_status=Case(
                When(
                    status__in=[InvoiceStatus.PENDING, InvoiceStatus.PARTIAL],
                    due_date__lt=today,
                    then=Value(InvoiceStatus.OVERDUE.value),
                ),
                default=F("status"),
                output_field=models.CharField(),
            )
        )


class Invoice(InBaseCurrency):
    number = models.CharField(_("number"), max_length=32, null=True, blank=True, editable=False)
    # The counter value behind the number: numbers sort by it (INV-9999 before INV-10000).
    sequence = models.PositiveIntegerField(null=True, blank=True, editable=False)
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("client")
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    issue_date = models.DateField(_("issue date"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=InvoiceStatus.choices,
        default=InvoiceStatus.DRAFT,
        editable=False,
    )
    notes = models.TextField(_("notes"), blank=True)
    terms = models.TextField(_("payment terms"), blank=True)

    discount_kind = models.CharField(
        _("invoice discount"),
        max_length=10,
        choices=DiscountKind.choices,
        default=DiscountKind.NONE,
        blank=True,
    )
    discount_value = DecimalField(
        _("discount (percent or amount)"),
        max_digits=14,
        decimal_places=3,
        default=Decimal("0"),
        validators=[MinValueValidator(0)],
    )

    # Where the invoice's tax set (its InvoiceTax rows) came from, decided when it is made
    # (SPEC: Several taxes) and kept, so a later change of the settings or the client never
    # changes it: the business's default set, the client's own set, or no tax because the
    # client is tax-exempt or abroad. Documents and the tax report say why there is no tax.
    tax_basis = models.CharField(
        _("tax basis"),
        max_length=10,
        choices=TaxBasis.choices,
        default=TaxBasis.DEFAULT,
        editable=False,
    )

    # Stored figures, computed by billing.money.compute_invoice and nothing else.
    subtotal = amount_field(_("subtotal"), editable=False)
    discount_total = amount_field(_("discount"), editable=False)
    tax_total = amount_field(_("tax"), editable=False)
    total = amount_field(_("total"), editable=False)
    amount_paid = amount_field(_("amount paid"), editable=False)
    # The totals of its issued credit notes (SPEC: Credit notes), kept by the one money path.
    amount_credited = amount_field(_("amount credited"), editable=False)

    issued_at = models.DateTimeField(null=True, blank=True, editable=False)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    cancelled_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The business's day of the cancellation, the date of its ledger entry: the reports and
    # the exports count a cancellation in the period it was made (SPEC: Exports and imports).
    cancelled_on = models.DateField(_("cancelled on"), null=True, blank=True, editable=False)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    cancel_reason = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        permissions = [
            ("issue_invoice", "Can issue invoices"),
            ("cancel_invoice", "Can cancel invoices"),
        ]
        constraints = [
            *InBaseCurrency.Meta.constraints,
            models.UniqueConstraint(fields=["number"], name="invoice_number_unique"),
            models.UniqueConstraint(fields=["sequence"], name="invoice_sequence_unique"),
            models.CheckConstraint(
                condition=(
                    Q(status=InvoiceStatus.DRAFT, number__isnull=True, sequence__isnull=True)
                    | (
                        ~Q(status=InvoiceStatus.DRAFT)
                        & Q(number__isnull=False, sequence__isnull=False, issue_date__isnull=False)
                    )
                ),
                name="invoice_issued_has_number",
            ),
            models.CheckConstraint(
                condition=Q(subtotal__gte=0, discount_total__gte=0, tax_total__gte=0, total__gte=0),
                name="invoice_amounts_gte_0",
            ),
            models.CheckConstraint(
                # amount paid + amount credited ≤ total, to the cent: half a cent of room
                # for SQLite, which adds decimals in binary floating point.
                condition=Q(
                    amount_paid__gte=0,
                    amount_credited__gte=0,
                    total__gte=F("amount_paid") + F("amount_credited") - HALF_CENT,
                ),
                name="invoice_paid_and_credited_within_total",
            ),
            models.CheckConstraint(
                condition=Q(discount_total__lte=F("subtotal")),
                name="invoice_discount_within_subtotal",
            ),
            models.CheckConstraint(
                condition=Q(discount_value__gte=0), name="invoice_discount_value_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(cancelled_at__isnull=True, cancelled_on__isnull=True)
                | Q(cancelled_at__isnull=False, cancelled_on__isnull=False),
                name="invoice_cancelled_has_day",
            ),
        ]
        # Each list order and filter of the pages and the back office has an index that
        # reads it in order, so a page of 50 costs the same on a million invoices as on ten
        # (bench/RESULTS.md). The status one also covers the dashboard's sums of what is due.
        indexes = [
            models.Index(
                fields=[
                    "status",
                    "due_date",
                    "currency",
                    "total",
                    "amount_paid",
                    "amount_credited",
                ],
                name="invoice_status_due",
            ),
            models.Index(fields=["client", "issue_date"], name="invoice_client_issued"),
            models.Index(fields=["issue_date", "sequence"], name="invoice_issue_date"),
            models.Index(fields=["created_at", "id"], name="invoice_created"),
            models.Index(fields=["status", "created_at", "id"], name="invoice_status_created"),
            models.Index(fields=["client", "created_at", "id"], name="invoice_client_created"),
            # The search box's invoices of an amount (billing.search), the newest first.
            models.Index(fields=["total", "created_at", "id"], name="invoice_total"),
            # The revenue report's sums over a range of issue dates, from the index alone.
            models.Index(
                fields=["issue_date", "status", "currency", "client", "total", "tax_total"],
                name="invoice_issued_figures",
            ),
            # The cancellations of a range of days, counted as negatives (reports, exports).
            models.Index(
                fields=["cancelled_on", "currency", "client", "total", "tax_total"],
                name="invoice_cancelled_figures",
            ),
        ]

    def __str__(self) -> str:
        return self.number or _("Draft #%(id)s") % {"id": self.pk}

    def get_absolute_url(self) -> str:
        if self.number:
            return reverse("invoices:detail", args=[self.number])
        return reverse("invoices:draft_detail", args=[self.pk])

    @property
    def balance_due(self) -> Decimal:
        """SPEC: balance due = total − amount paid − amount credited (``BALANCE_DUE``)."""
        return self.total - self.amount_paid - self.amount_credited

    @property
    def is_draft(self) -> bool:
        return self.status == InvoiceStatus.DRAFT

    @property
    def is_cancelled(self) -> bool:
        return self.status == InvoiceStatus.CANCELLED


class DocumentLine(models.Model):
    """What a line of an invoice or a quote is made of: what a user gives, and its amount,
    computed by billing.money."""

    # What a user gives for a line; the amount is computed (billing.money).
    INPUT_FIELDS = (
        "service",
        "description",
        "quantity",
        "unit",
        "unit_price",
        "discount_percent",
        "taxable",
        "taxes",
    )

    position = models.PositiveIntegerField(default=0)
    # PROTECT: a service on a document is deactivated, never deleted from under it.
    service = models.ForeignKey(
        Service,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("service"),
    )
    description = models.CharField(_("description"), max_length=500)
    quantity = DecimalField(
        _("quantity"),
        max_digits=14,
        decimal_places=3,
        default=Decimal("1"),
        validators=[MinValueValidator(0)],
    )
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    unit_price = DecimalField(
        _("unit price"), max_digits=14, decimal_places=4, validators=[MinValueValidator(0)]
    )
    discount_percent = DecimalField(
        _("discount %"),
        max_digits=6,
        decimal_places=3,
        default=Decimal("0"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    taxable = models.BooleanField(_("taxable"), default=True)
    # The labels of the document's taxes this taxable line carries, when not all of them
    # (PST on materials only); None: every tax of the document (SPEC: Several taxes).
    taxes = models.JSONField(_("taxes"), null=True, blank=True, default=None)
    amount = amount_field(_("amount"), editable=False)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.description


class InvoiceLine(DocumentLine):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("line")
        verbose_name_plural = _("lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="line_quantity_gte_0"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="line_price_gte_0"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100),
                name="line_discount_0_to_100",
            ),
        ]
        # The amounts per service of the invoices in a range (reports), from the index alone.
        indexes = [
            models.Index(fields=["invoice", "service", "amount"], name="line_invoice_service")
        ]


class DocumentTax(models.Model):
    """One tax of a document's set: a snapshot of its label, rate and registration number,
    with its figures. ``tax`` names the business's tax it was copied from, while it exists."""

    position = models.PositiveIntegerField(default=0)
    tax = models.ForeignKey(
        "settings_app.Tax", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    label = models.CharField(_("label"), max_length=50)
    rate = DecimalField(_("rate (%)"), max_digits=7, decimal_places=4)
    number = models.CharField(_("registration number"), max_length=100, blank=True)
    base = amount_field(_("taxable base"))
    amount = amount_field(_("amount"))

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.label} {plain_decimal(self.rate)} %"


class InvoiceTax(DocumentTax):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="taxes")
    amount_in_base = in_base_field(_("amount in the base currency"))

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("tax")
        verbose_name_plural = _("taxes")
        constraints = [
            models.CheckConstraint(
                condition=Q(rate__gte=0, rate__lte=100), name="invoice_tax_rate_0_to_100"
            ),
            # A line names the taxes it carries by label.
            models.UniqueConstraint(fields=["invoice", "label"], name="invoice_tax_label_unique"),
        ]


class CreditNoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")


class CreditKind(models.TextChoices):
    """What a credit note credits (SPEC: Credit notes)."""

    FULL = "full", _("All that remains")
    LINES = "lines", _("Some lines or quantities")
    AMOUNT = "amount", _("An amount")


class CreditNote(InBaseCurrency):
    """A correction of an issued invoice, a document of its own: positive amounts, the
    invoice's client, currency and tax set, its own gapless series (CN-0001) given when it
    is issued. A draft is edited and deleted; an issued one never changes."""

    number = models.CharField(_("number"), max_length=32, null=True, blank=True, editable=False)
    sequence = models.PositiveIntegerField(null=True, blank=True, editable=False)
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        related_name="credit_notes",
        verbose_name=_("invoice credited"),
    )
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="credit_notes", verbose_name=_("client")
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    kind = models.CharField(_("credits"), max_length=10, choices=CreditKind.choices)
    # For kind "amount": the gross amount asked for, taxes included.
    amount_asked = amount_field(_("amount to credit"), null=True, blank=True, default=None)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=CreditNoteStatus.choices,
        default=CreditNoteStatus.DRAFT,
        editable=False,
    )
    issue_date = models.DateField(_("issue date"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    # The invoice's tax basis, copied: why a credit note has no tax is said as on the invoice.
    tax_basis = models.CharField(
        _("tax basis"), max_length=10, choices=TaxBasis.choices, editable=False
    )

    # Stored figures, computed by billing.money and nothing else.
    subtotal = amount_field(_("subtotal"), editable=False)
    discount_total = amount_field(_("discount"), editable=False)
    tax_total = amount_field(_("tax"), editable=False)
    total = amount_field(_("total"), editable=False)

    issued_at = models.DateTimeField(null=True, blank=True, editable=False)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        permissions = [("issue_creditnote", "Can issue credit notes")]
        constraints = [
            *InBaseCurrency.Meta.constraints,
            models.UniqueConstraint(fields=["number"], name="credit_note_number_unique"),
            models.UniqueConstraint(fields=["sequence"], name="credit_note_sequence_unique"),
            models.CheckConstraint(
                condition=(
                    Q(status=CreditNoteStatus.DRAFT, number__isnull=True, sequence__isnull=True)
                    | Q(
                        status=CreditNoteStatus.ISSUED,
                        number__isnull=False,
                        sequence__isnull=False,
                        issue_date__isnull=False,
                        total__gt=0,
                    )
                ),
                name="credit_note_issued_has_number",
            ),
            models.CheckConstraint(
                condition=Q(subtotal__gte=0, discount_total__gte=0, tax_total__gte=0, total__gte=0),
                name="credit_note_amounts_gte_0",
            ),
            models.CheckConstraint(
                condition=~Q(kind=CreditKind.AMOUNT) | Q(amount_asked__gt=0),
                name="credit_note_amount_asked",
            ),
        ]
        indexes = [
            models.Index(fields=["invoice", "status"], name="credit_note_invoice"),
            models.Index(fields=["client", "created_at", "id"], name="credit_note_client"),
            models.Index(
                fields=["issue_date", "status", "currency", "client", "total", "tax_total"],
                name="credit_note_issued_figures",
            ),
            models.Index(fields=["created_at", "id"], name="credit_note_created"),
        ]

    def __str__(self) -> str:
        return self.number or _("Draft credit note #%(id)s") % {"id": self.pk}

    def get_absolute_url(self) -> str:
        return reverse("credit_notes:detail", args=[self.pk])

    @property
    def is_draft(self) -> bool:
        return self.status == CreditNoteStatus.DRAFT


class CreditNoteLine(models.Model):
    """A line of a credit note: a quantity of a line of its invoice (``invoice_line``), or,
    for a credit of an amount or of what remains after one, a line of its own."""

    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    # SET_NULL: a draft's line whose invoice line went (the draft invoice was edited) is
    # refused when the draft is issued; an issued credit note locks its invoice's lines.
    invoice_line = models.ForeignKey(
        InvoiceLine, on_delete=models.SET_NULL, null=True, blank=True, related_name="credits"
    )
    description = models.CharField(_("description"), max_length=500)
    quantity = DecimalField(
        _("quantity"),
        max_digits=14,
        decimal_places=3,
        default=Decimal("1"),
        validators=[MinValueValidator(0)],
    )
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    unit_price = DecimalField(
        _("unit price"), max_digits=14, decimal_places=4, validators=[MinValueValidator(0)]
    )
    discount_percent = DecimalField(
        _("discount %"), max_digits=6, decimal_places=3, default=Decimal("0")
    )
    taxable = models.BooleanField(_("taxable"), default=True)
    taxes = models.JSONField(_("taxes"), null=True, blank=True, default=None)
    amount = amount_field(_("amount"), editable=False)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("credit note line")
        verbose_name_plural = _("credit note lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="cn_line_quantity_gte_0"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="cn_line_amount_gte_0"),
        ]

    def __str__(self) -> str:
        return self.description


class CreditNoteTax(models.Model):
    """One tax of a credit note: its invoice's label, rate and number, with its figures."""

    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="taxes")
    position = models.PositiveIntegerField(default=0)
    label = models.CharField(_("label"), max_length=50)
    rate = DecimalField(_("rate (%)"), max_digits=7, decimal_places=4)
    number = models.CharField(_("registration number"), max_length=100, blank=True)
    base = amount_field(_("taxable base"))
    amount = amount_field(_("amount"))
    amount_in_base = in_base_field(_("amount in the base currency"))

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("credit note tax")
        verbose_name_plural = _("credit note taxes")
        constraints = [
            models.UniqueConstraint(
                fields=["credit_note", "label"], name="credit_note_tax_label_unique"
            ),
            models.CheckConstraint(
                condition=Q(base__gte=0, amount__gte=0), name="credit_note_tax_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} {plain_decimal(self.rate)} %"


class InvoiceChange(models.Model):
    """What changed on an issued invoice: who, when, and each field's old and new value."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="changes")
    changed_at = models.DateTimeField(auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # {"field": {"old": ..., "new": ...}}; lines as lists of their values.
    changes = models.JSONField()

    class Meta:
        ordering = ["changed_at", "id"]
        verbose_name = _("invoice change")
        verbose_name_plural = _("invoice changes")

    def __str__(self) -> str:
        return f"{self.invoice} {self.changed_at:%Y-%m-%d %H:%M}"


class InvoiceNumberCounter(models.Model):
    """The last invoice number given out. One row, locked while an invoice is issued."""

    name = models.CharField(max_length=20, primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.last_number}"


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    CHEQUE = "cheque", _("Cheque")
    E_TRANSFER = "e_transfer", _("E-transfer")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    CARD = "card", _("Card")
    CLIENT_CREDIT = "client_credit", _("Client credit")
    OTHER = "other", _("Other")


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    CONFIRMED = "confirmed", _("Confirmed")
    REVERSED = "reversed", _("Reversed")


class PaymentQuerySet(models.QuerySet):
    def counting(self):
        """The payments that count as paid: confirmed and not reversed."""
        return self.filter(status=PaymentStatus.CONFIRMED)

    def not_reversed(self):
        return self.exclude(status=PaymentStatus.REVERSED)


class Payment(models.Model):
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="payments", verbose_name=_("client")
    )
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("invoice"),
        help_text=_("Leave empty to put the amount on the client's account as credit."),
    )
    amount = amount_field(_("amount"), validators=[MinValueValidator(Decimal("0.01"))])
    # Its invoice's currency; on account, the one given (by default the client's).
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    date = models.DateField(_("date"))
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices)
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=PaymentStatus.choices, editable=False
    )
    # SPEC: Currencies and exchange rates. The rate of its date (1 in the base currency),
    # frozen when it is confirmed, and its amount at that rate; what it settles of its
    # invoice's base total and the realised exchange difference (gain > 0, loss < 0), kept
    # by billing.accounting from the facts while it counts (empty when it does not).
    exchange_rate = rate_field(_("exchange rate"), null=True, blank=True, editable=False)
    rate_date = models.DateField(_("rate date"), null=True, blank=True, editable=False)
    rate_source = models.CharField(_("rate source"), max_length=100, blank=True, editable=False)
    amount_in_base = in_base_field(_("amount in the base currency"))
    settled_in_base = in_base_field(_("settled in the base currency"))
    exchange_difference = amount_field(
        _("exchange gain or loss"), null=True, blank=True, default=None, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    reversed_at = models.DateTimeField(null=True, blank=True, editable=False)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    reversal_reason = models.TextField(_("reversal reason"), blank=True, editable=False)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        permissions = [
            ("confirm_payment", "Can confirm payments"),
            ("reverse_payment", "Can reverse payments"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_gt_0"),
            models.CheckConstraint(
                condition=~Q(status=PaymentStatus.REVERSED)
                | (Q(reversed_at__isnull=False) & ~Q(reversal_reason="")),
                name="payment_reversal_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status=PaymentStatus.CONFIRMED) | Q(confirmed_at__isnull=False),
                name="payment_confirmed_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(method=PaymentMethod.CLIENT_CREDIT) | Q(invoice__isnull=False),
                name="payment_credit_needs_invoice",
            ),
            # A base amount needs the rate it was taken at (the rate is frozen first, when
            # the payment is confirmed; the one money path then values it).
            models.CheckConstraint(
                condition=Q(amount_in_base__isnull=True)
                | Q(exchange_rate__isnull=False, exchange_rate__gt=0, rate_date__isnull=False),
                name="payment_in_base_has_rate",
            ),
            models.CheckConstraint(
                condition=Q(exchange_rate__isnull=True) | Q(exchange_rate__gt=0),
                name="payment_rate_gt_0",
            ),
        ]
        indexes = [
            models.Index(fields=["client", "date", "id"], name="payment_client_date"),
            models.Index(fields=["date", "id"], name="payment_date"),
            models.Index(fields=["status", "date", "id"], name="payment_status_date"),
            models.Index(fields=["method", "date", "id"], name="payment_method_date"),
            models.Index(fields=["reference"], name="payment_reference"),
            # The exchange gains and losses of a range of dates (reports).
            models.Index(fields=["date", "status", "exchange_difference"], name="payment_exchange"),
        ]

    def __str__(self) -> str:
        return _("Payment #%(id)s") % {"id": self.pk}


class RefundQuerySet(models.QuerySet):
    def counting(self):
        """The refunds that count: not reversed."""
        return self.filter(reversed_at__isnull=True)


class Refund(models.Model):
    """Money paid back to a client out of its credit (SPEC: Payments): a payment in the
    other direction. A model of its own rather than a direction on Payment: a refund has no
    invoice, is never pending and never "client credit", and every sum of payments (amount
    paid, receipts, collected, the lists at a million rows) stays right without a filter
    that one forgotten query would break. A mistake is reversed, never deleted."""

    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("client")
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    amount = amount_field(_("amount"), validators=[MinValueValidator(Decimal("0.01"))])
    date = models.DateField(_("date"))
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices)
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    reversed_at = models.DateTimeField(null=True, blank=True, editable=False)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    reversal_reason = models.TextField(_("reversal reason"), blank=True, editable=False)

    objects = RefundQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        permissions = [("reverse_refund", "Can reverse refunds")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_gt_0"),
            models.CheckConstraint(
                condition=~Q(method=PaymentMethod.CLIENT_CREDIT), name="refund_moves_money"
            ),
            models.CheckConstraint(
                condition=Q(reversed_at__isnull=True) | ~Q(reversal_reason=""),
                name="refund_reversal_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["client", "date", "id"], name="refund_client_date"),
            models.Index(fields=["date", "id"], name="refund_date"),
        ]

    def __str__(self) -> str:
        return _("Refund #%(id)s") % {"id": self.pk}

    @property
    def is_reversed(self) -> bool:
        return self.reversed_at is not None


class RenderedPdf(models.Model):
    """A rendered invoice PDF, kept so an unchanged issued invoice is not rendered twice.

    ``key`` is the SHA-256 of everything the document shows (billing.pdf.document_key): any
    change to the invoice, its client, the business settings or the template gives a new key.
    A table rather than a per-process cache: app servers keep no state of their own.
    """

    key = models.CharField(max_length=64)
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="+")
    pdf = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("rendered PDF")
        verbose_name_plural = _("rendered PDFs")
        constraints = [models.UniqueConstraint(fields=["key"], name="rendered_pdf_key_unique")]

    def __str__(self) -> str:
        return f"{self.invoice} {self.key[:12]}"


# The month of every span still open: later than any real month.
OPEN_MONTH = datetime.date(9999, 12, 1)


class OutstandingSpan(models.Model):
    """Days over which an issued invoice had the same amount outstanding (above zero), from
    ``starts`` up to but not including ``ends``: what the reports read to know what was open
    at the end of any day. Derived from the invoice's ledger entries and confirmed payments by
    billing.outstanding, in the transaction of every operation that changes them; never
    written by hand.

    A span that has ended is stored cut at month ends, a row for each month it touches; the
    span still open (``ends`` empty) is one row in OPEN_MONTH. The invoices open at the end of
    a day are then the rows of that day's month that cover it and the open rows begun by
    then: two short ranges of one index, however many years the books hold.
    """

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    due_date = models.DateField()
    month = models.DateField()
    starts = models.DateField()
    ends = models.DateField(null=True, blank=True)
    balance = amount_field(_("balance"))

    class Meta:
        verbose_name = _("outstanding span")
        verbose_name_plural = _("outstanding spans")
        # Every column the reports read: they are answered from the index alone.
        indexes = [
            models.Index(
                fields=["month", "starts", "ends", "currency", "client", "due_date", "balance"],
                name="outstanding_span_month",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gt=0), name="outstanding_span_balance_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(ends__isnull=True) | Q(ends__gt=F("starts")),
                name="outstanding_span_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id} {self.starts}–{self.ends or ''}: {self.balance}"
