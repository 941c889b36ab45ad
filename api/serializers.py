"""What the API reads and writes. Input serializers only check types and shapes; the
operations check the rules and say what is wrong (SPEC: Bad input)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing.models import (
    Client,
    ClientContact,
    CreditKind,
    CreditNote,
    CreditNoteLine,
    CreditNoteTax,
    Invoice,
    InvoiceLine,
    InvoiceTax,
    Payment,
    PaymentMethod,
    Refund,
    Service,
    ServicePrice,
)
from billing.money import CURRENCIES, DISCOUNT_FIXED, DISCOUNT_NONE, DISCOUNT_PERCENT
from billing.services.clients import MAX_CONTACTS
from ledger.models import LedgerEntry
from links.models import DocumentLink
from outbox.models import DeliveryAttempt, FailureKind, Message
from quotes.models import (
    STAFF_CHANNELS,
    Answer,
    Quote,
    QuoteAnswer,
    QuoteLine,
    QuoteState,
    QuoteTax,
)
from quotes.rules import shown_state
from rates.models import ExchangeRate
from recurring import services as recurring
from recurring.models import (
    MAX_INTERVAL,
    DayRule,
    EndKind,
    IntervalUnit,
    IssueMode,
    Occurrence,
    Pause,
    Schedule,
    ScheduleLine,
    ScheduleState,
)
from recurring.selectors import next_dates
from settings_app.models import BusinessSettings, Tax
from settings_app.services import SETTINGS_FIELDS

from .fields import CodeField, DecimalStringField, MoneyField


class ItemSerializer(serializers.Serializer):
    """An item of a list given in full, even in a PATCH. DRF hands the root's partial down to
    nested fields, so a PATCH could leave out an item's required field and reach the operation
    without it (the fuzzer found a credit note line without its invoice line: a 500)."""

    def validate(self, attrs):
        missing = {
            name: [serializers.ErrorDetail(field.error_messages["required"], code="required")]
            for name, field in self.fields.items()
            if field.required and not field.read_only and name not in attrs
        }
        if missing:
            raise serializers.ValidationError(missing)
        return attrs


# --- Taxes --------------------------------------------------------------------------------


class TaxSerializer(serializers.ModelSerializer):
    rate = DecimalStringField(places=4, read_only=True)

    class Meta:
        model = Tax
        fields = ["id", "label", "rate", "number", "in_default_set", "is_active", "position"]
        read_only_fields = fields


class TaxInputSerializer(serializers.Serializer):
    # DRF takes declared fields off the class: "label" does not shadow Field.label.
    label = serializers.CharField(  # type: ignore[assignment]
        help_text="Unique: documents and lines name a tax by it."
    )
    rate = DecimalStringField(places=4, allow_int=True, help_text="Percent, 0 to 100.")
    number = serializers.CharField(
        required=False, allow_blank=True, help_text="The registration number printed beside it."
    )
    in_default_set = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)
    position = serializers.IntegerField(required=False, min_value=0, max_value=32767)


# --- Exchange rates -----------------------------------------------------------------------

RATE_HELP = (
    "Units of the base currency (base_currency) for one unit of the currency, more than 0, "
    'up to 10 decimals: 1 USD = 1.35 CAD is "1.35".'
)


class ExchangeRateSerializer(serializers.ModelSerializer):
    rate = DecimalStringField(places=10, read_only=True, help_text=RATE_HELP)
    created_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = ExchangeRate
        fields = [
            "id",
            "base_currency",
            "currency",
            "date",
            "rate",
            "source",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ExchangeRateInputSerializer(serializers.Serializer):
    currency = CodeField(help_text="A currency code such as USD, any case; not the base currency.")
    date = serializers.DateField(help_text="The day the rate is for.")
    rate = DecimalStringField(places=10, allow_int=True, help_text=RATE_HELP)
    # DRF takes declared fields off the class: "source" does not shadow Field.source.
    source = serializers.CharField(  # type: ignore[assignment]
        required=False,
        allow_blank=True,
        help_text='Where the figure comes from. Default: "typed in".',
    )


def _tax_labels(*, read_only: bool = False, **kwargs):
    """Taxes named by their labels, in and out."""
    if read_only:
        return serializers.SlugRelatedField(many=True, slug_field="label", read_only=True, **kwargs)
    return serializers.SlugRelatedField(
        many=True, slug_field="label", queryset=Tax.objects.all(), **kwargs
    )


# --- Clients and services -----------------------------------------------------------------


def _shown_text(**kwargs):
    # An e-mail or web address that may be blank: described as text, since "" is no address.
    return serializers.CharField(read_only=True, **kwargs)


class ClientContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClientContact
        fields = ["name", "email"]
        read_only_fields = fields


class ClientSerializer(serializers.ModelSerializer):
    email = _shown_text()
    contacts = ClientContactSerializer(
        many=True,
        read_only=True,
        help_text="Its other contacts, beside its own e-mail: each address is on file for the "
        "client, as the e-mail is.",
    )
    taxes = _tax_labels(
        read_only=True,
        help_text="The client's own set, charged when uses_default_taxes is false (empty: no tax).",
    )
    balance = MoneyField(
        read_only=True, help_text="The ledger balance: positive is credit, negative is owed."
    )
    available_credit = MoneyField(
        read_only=True, help_text="What a payment by client credit may still draw."
    )

    class Meta:
        model = Client
        fields = [
            "code",
            "name",
            "contact_person",
            "email",
            "contacts",
            "phone",
            "address",
            "country",
            "tax_number",
            "tax_exempt",
            "uses_default_taxes",
            "taxes",
            "default_currency",
            "notes",
            "is_active",
            "balance",
            "available_credit",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


def _text(**kwargs):
    return serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, **kwargs)


class ClientContactInputSerializer(ItemSerializer):
    name = _text(help_text="Whose address it is.")
    email = serializers.CharField(
        trim_whitespace=False, help_text="An address; not the client's e-mail, nor given twice."
    )


class ClientInputSerializer(serializers.Serializer):
    code = CodeField()
    name = serializers.CharField()
    contact_person = _text()
    email = _text()
    contacts = ClientContactInputSerializer(
        many=True,
        required=False,
        # No max_length: the operation's refusal of too many names the field.
        help_text=f"All its other contacts, at most {MAX_CONTACTS} (an address left out is no "
        "longer on file); leave out to keep them.",
    )
    phone = _text()
    address = _text()
    country = serializers.CharField()
    tax_number = _text()
    tax_exempt = serializers.BooleanField(required=False)
    uses_default_taxes = serializers.BooleanField(
        required=False, help_text="false: the client is charged its own taxes (taxes)."
    )
    taxes = _tax_labels(required=False, help_text="Labels of the client's own taxes.")
    default_currency = _text(help_text="Default: the business's default currency.")
    notes = _text()
    is_active = serializers.BooleanField(required=False)


class ServicePriceSerializer(serializers.ModelSerializer):
    unit_price = DecimalStringField(places=4, read_only=True)

    class Meta:
        model = ServicePrice
        fields = ["currency", "unit_price"]
        read_only_fields = fields


class ServiceSerializer(serializers.ModelSerializer):
    unit_price = DecimalStringField(
        places=4, read_only=True, help_text="In the base currency (the settings' default)."
    )
    taxes = _tax_labels(
        read_only=True, help_text="The taxes a line of it carries; empty: every tax."
    )
    prices = ServicePriceSerializer(
        many=True,
        read_only=True,
        help_text="Its prices in other currencies: a line of a document in one of them "
        "takes that price, in any other the unit_price.",
    )

    class Meta:
        model = Service
        fields = [
            "code",
            "name",
            "description",
            "unit",
            "unit_price",
            "prices",
            "taxable",
            "taxes",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ServicePriceInputSerializer(ItemSerializer):
    currency = serializers.CharField(help_text="A currency code such as USD; not the base one.")
    unit_price = DecimalStringField(places=4, allow_int=True)


class ServiceInputSerializer(serializers.Serializer):
    code = CodeField()
    name = serializers.CharField()
    description = _text()
    unit = _text()
    unit_price = DecimalStringField(
        places=4, allow_int=True, help_text="In the base currency (the settings' default)."
    )
    prices = ServicePriceInputSerializer(  # type: ignore[call-arg]
        many=True,
        required=False,
        max_length=len(CURRENCIES),
        help_text="All its prices in other currencies (a currency left out loses its "
        "price); leave out to keep them.",
    )
    taxable = serializers.BooleanField(required=False)
    taxes = _tax_labels(required=False, help_text="Labels; empty: it carries every tax.")
    is_active = serializers.BooleanField(required=False)


# --- Invoices -----------------------------------------------------------------------------


class InvoiceLineSerializer(serializers.ModelSerializer):
    service: serializers.SlugRelatedField[Service] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    quantity = DecimalStringField(places=3, read_only=True)
    unit_price = DecimalStringField(places=4, read_only=True)
    discount_percent = DecimalStringField(places=3, read_only=True)
    taxes = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        allow_null=True,
        help_text="The labels of the invoice's taxes the line carries; null: all of them.",
    )
    amount = MoneyField(read_only=True)

    class Meta:
        model = InvoiceLine
        fields = ["position", *InvoiceLine.INPUT_FIELDS, "amount"]
        read_only_fields = fields


class InvoiceTaxSerializer(serializers.ModelSerializer):
    rate = DecimalStringField(places=4, read_only=True)
    base = MoneyField(read_only=True)
    amount = MoneyField(read_only=True)
    amount_in_base = MoneyField(read_only=True, allow_null=True)

    class Meta:
        model = InvoiceTax
        fields = ["label", "rate", "number", "base", "amount", "amount_in_base"]
        read_only_fields = fields


class InBaseCurrencyFields(serializers.Serializer):
    """The rate a document froze when issued and its figures in the base currency (SPEC:
    Currencies and exchange rates), shown alike on invoices and credit notes."""

    exchange_rate = DecimalStringField(
        places=10,
        read_only=True,
        allow_null=True,
        help_text="Base currency per unit, frozen at issue (1 in the base currency); null on "
        "a draft.",
    )
    subtotal_in_base = MoneyField(read_only=True, allow_null=True)
    discount_in_base = MoneyField(read_only=True, allow_null=True)
    tax_in_base = MoneyField(read_only=True, allow_null=True)
    total_in_base = MoneyField(
        read_only=True,
        allow_null=True,
        help_text="subtotal_in_base − discount_in_base + tax_in_base, at the frozen rate.",
    )


# Their names, with the rate's date and source (model fields), for a serializer's Meta.
IN_BASE_FIELDS = [
    "exchange_rate",
    "rate_date",
    "rate_source",
    "subtotal_in_base",
    "discount_in_base",
    "tax_in_base",
    "total_in_base",
]


class InvoiceSerializer(InBaseCurrencyFields, serializers.ModelSerializer):
    ref = serializers.SerializerMethodField(
        help_text="How the API addresses the invoice: its number once issued, else its id."
    )
    client: serializers.SlugRelatedField[Client] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    status = serializers.SerializerMethodField()
    discount_value = DecimalStringField(places=3, read_only=True)
    lines = InvoiceLineSerializer(many=True, read_only=True)
    taxes = InvoiceTaxSerializer(many=True, read_only=True)
    subtotal = MoneyField(read_only=True)
    discount_total = MoneyField(read_only=True)
    tax_total = MoneyField(read_only=True)
    total = MoneyField(read_only=True)
    amount_paid = MoneyField(read_only=True)
    amount_credited = MoneyField(read_only=True, help_text="The totals of its issued credit notes.")
    balance_due = MoneyField(read_only=True, help_text="total − amount_paid − amount_credited")
    viewed_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="When the client last opened the invoice through one of its links (null: "
        "not yet, or never sent with one). The links themselves: its links/ action.",
    )

    class Meta:
        model = Invoice
        fields = [
            "id",
            "ref",
            "number",
            "status",
            "client",
            "currency",
            "issue_date",
            "due_date",
            "notes",
            "terms",
            "discount_kind",
            "discount_value",
            "lines",
            "tax_basis",
            "taxes",
            "subtotal",
            "discount_total",
            "tax_total",
            "total",
            "amount_paid",
            "amount_credited",
            "balance_due",
            *IN_BASE_FIELDS,
            "created_at",
            "issued_at",
            "cancelled_at",
            "cancelled_on",
            "cancel_reason",
            "viewed_at",
        ]
        read_only_fields = fields

    def get_ref(self, invoice) -> str:
        return invoice.number or str(invoice.pk)

    def get_status(self, invoice) -> str:
        # Annotated by the view: the stored status moves to overdue only once a day.
        return getattr(invoice, "shown_status", invoice.status)


class LineInputSerializer(serializers.Serializer):
    service = CodeField(
        required=False, allow_null=True, help_text="A service code: fills what is left empty."
    )
    description = _text()
    quantity = DecimalStringField(places=3, allow_int=True, required=False)
    unit = _text()
    unit_price = DecimalStringField(places=4, allow_int=True, required=False, allow_null=True)
    discount_percent = DecimalStringField(places=3, allow_int=True, required=False)
    taxable = serializers.BooleanField(required=False, allow_null=True)
    taxes = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        allow_null=True,
        help_text="Labels of the invoice's taxes the line carries; leave out for its "
        "service's, or all of them.",
    )


DISCOUNT_KINDS = [DISCOUNT_NONE, DISCOUNT_PERCENT, DISCOUNT_FIXED]


class InvoiceInputSerializer(serializers.Serializer):
    client = CodeField(help_text="The client's code.")
    # many=True makes a ListSerializer, which takes max_length (the stubs do not know).
    lines = LineInputSerializer(many=True, max_length=500)  # type: ignore[call-arg]
    notes = _text()
    terms = _text(help_text="Default: the payment terms text of the settings.")
    discount_kind = serializers.ChoiceField(choices=DISCOUNT_KINDS, required=False)
    discount_value = DecimalStringField(places=3, allow_int=True, required=False)
    issue_date = serializers.DateField(required=False, allow_null=True)
    due_date = serializers.DateField(required=False, allow_null=True)
    currency = serializers.CharField(
        required=False,
        help_text="Default: the client's. A draft's may change; an issued invoice keeps it.",
    )


class IssueInputSerializer(serializers.Serializer):
    issue_date = serializers.DateField(required=False, allow_null=True)
    due_date = serializers.DateField(required=False, allow_null=True)
    exchange_rate = DecimalStringField(
        places=10,
        required=False,
        allow_null=True,
        help_text="For a draft in another currency than the base one: the rate to freeze "
        "(base currency per unit). Default: the newest stored on or before the issue date.",
    )
    rate_date = serializers.DateField(required=False, allow_null=True)
    rate_source = _text(help_text="Where a typed-in rate comes from.")


class CancelInputSerializer(serializers.Serializer):
    reason = _text()


# --- Credit notes and refunds ---------------------------------------------------------------


class CreditNoteLineSerializer(serializers.ModelSerializer):
    invoice_line: serializers.PrimaryKeyRelatedField[InvoiceLine] = (
        serializers.PrimaryKeyRelatedField(
            read_only=True,
            allow_null=True,
            help_text="The id of the invoice line it credits; null for a credit of an amount.",
        )
    )
    quantity = DecimalStringField(places=3, read_only=True)
    unit_price = DecimalStringField(places=4, read_only=True)
    discount_percent = DecimalStringField(places=3, read_only=True)
    taxes = serializers.ListField(child=serializers.CharField(), read_only=True, allow_null=True)
    amount = MoneyField(read_only=True)

    class Meta:
        model = CreditNoteLine
        fields = [
            "position",
            "invoice_line",
            "description",
            "quantity",
            "unit",
            "unit_price",
            "discount_percent",
            "taxable",
            "taxes",
            "amount",
        ]
        read_only_fields = fields


class CreditNoteTaxSerializer(serializers.ModelSerializer):
    rate = DecimalStringField(places=4, read_only=True)
    base = MoneyField(read_only=True)
    amount = MoneyField(read_only=True)
    amount_in_base = MoneyField(read_only=True, allow_null=True)

    class Meta:
        model = CreditNoteTax
        fields = ["label", "rate", "number", "base", "amount", "amount_in_base"]
        read_only_fields = fields


class CreditNoteSerializer(InBaseCurrencyFields, serializers.ModelSerializer):
    invoice: serializers.SlugRelatedField[Invoice] = serializers.SlugRelatedField(
        slug_field="number", read_only=True, help_text="The number of the invoice it credits."
    )
    client: serializers.SlugRelatedField[Client] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    amount_asked = MoneyField(read_only=True, allow_null=True)
    lines = CreditNoteLineSerializer(many=True, read_only=True)
    taxes = CreditNoteTaxSerializer(many=True, read_only=True)
    subtotal = MoneyField(read_only=True)
    discount_total = MoneyField(read_only=True)
    tax_total = MoneyField(read_only=True)
    total = MoneyField(read_only=True)

    class Meta:
        model = CreditNote
        fields = [
            "id",
            "number",
            "status",
            "invoice",
            "client",
            "currency",
            "kind",
            "amount_asked",
            "reason",
            "issue_date",
            "tax_basis",
            "lines",
            "taxes",
            "subtotal",
            "discount_total",
            "tax_total",
            "total",
            *IN_BASE_FIELDS,
            "created_at",
            "issued_at",
        ]
        read_only_fields = fields


class CreditLineInputSerializer(ItemSerializer):
    invoice_line = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="The id of a line of the invoice."
    )
    quantity = DecimalStringField(places=3, allow_int=True, help_text="How much of it to credit.")


class CreditNoteChangeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=CreditKind.choices,
        required=False,
        help_text="full: all that remains; lines: the quantities in lines; amount: a gross "
        "amount, its taxes split as on the invoice.",
    )
    # many=True makes a ListSerializer, which takes max_length (the stubs do not know).
    lines = CreditLineInputSerializer(  # type: ignore[call-arg]
        many=True, required=False, max_length=500
    )
    amount = MoneyField(
        required=False, allow_null=True, help_text="For kind amount, taxes included."
    )
    reason = _text(help_text="Printed on the credit note.")


class CreditNoteInputSerializer(CreditNoteChangeSerializer):
    invoice = serializers.CharField(help_text="The number of the issued invoice to credit.")


class CreditNoteIssueInputSerializer(serializers.Serializer):
    issue_date = serializers.DateField(required=False, allow_null=True, help_text="Default: today.")


class RefundSerializer(serializers.ModelSerializer):
    client: serializers.SlugRelatedField[Client] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    amount = MoneyField(read_only=True)

    class Meta:
        model = Refund
        fields = [
            "id",
            "client",
            "currency",
            "amount",
            "date",
            "method",
            "reference",
            "note",
            "created_at",
            "reversed_at",
            "reversal_reason",
        ]
        read_only_fields = fields


class RefundInputSerializer(serializers.Serializer):
    client = CodeField(help_text="The client whose credit is paid back.")
    amount = MoneyField()
    date = serializers.DateField()
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    reference = _text()
    note = _text()
    currency = serializers.CharField(
        required=False,
        help_text="The currency of the credit paid back. Default: the client's.",
    )


# --- Quotes -------------------------------------------------------------------------------


class QuoteLineSerializer(InvoiceLineSerializer):
    taxes = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        allow_null=True,
        help_text="The labels of the quote's taxes the line carries; null: all of them.",
    )

    class Meta:
        model = QuoteLine
        fields = ["position", *QuoteLine.INPUT_FIELDS, "amount"]
        read_only_fields = fields


class QuoteTaxSerializer(serializers.ModelSerializer):
    rate = DecimalStringField(places=4, read_only=True)
    base = MoneyField(read_only=True)
    amount = MoneyField(read_only=True)

    class Meta:
        model = QuoteTax
        fields = ["label", "rate", "number", "base", "amount"]
        read_only_fields = fields


class QuoteAnswerSerializer(serializers.ModelSerializer):
    recorded_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="The user who recorded it on the client's behalf; null: the client, "
        "through the quote's link or the client portal (channel).",
    )
    # Not an EmailField: its schema's "format: email" refuses the empty string of the
    # answers made any other way.
    email = serializers.CharField(
        read_only=True,
        help_text="For an answer through the client portal, the address signed in; else empty.",
    )
    pdf_sha256 = serializers.CharField(
        read_only=True, help_text="SHA-256 of the exact PDF accepted; empty for a decline."
    )

    class Meta:
        model = QuoteAnswer
        fields = [
            "answer",
            "channel",
            "name",
            "email",
            "reason",
            "answered_at",
            "ip_address",
            "user_agent",
            "recorded_by",
            "after_expiry",
            "pdf_sha256",
        ]
        read_only_fields = fields


class QuoteSerializer(serializers.ModelSerializer):
    ref = serializers.SerializerMethodField(
        help_text="How the API addresses the quote: its number once sent, else its id."
    )
    state = serializers.SerializerMethodField(
        help_text="What the quote shows as: its status, or expired (sent, unanswered, and "
        "valid_until before today in the business's time zone). Never stored."
    )
    client: serializers.SlugRelatedField[Client] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    discount_value = DecimalStringField(places=3, read_only=True)
    lines = QuoteLineSerializer(many=True, read_only=True)
    taxes = QuoteTaxSerializer(many=True, read_only=True)
    subtotal = MoneyField(read_only=True)
    discount_total = MoneyField(read_only=True)
    tax_total = MoneyField(read_only=True)
    total = MoneyField(read_only=True)
    invoice = serializers.SerializerMethodField(
        help_text="The invoice it was converted into (its number once issued, else its "
        "id: its ref), or null."
    )
    answer = serializers.SerializerMethodField(
        help_text="The client's answer (accepted or declined), or null."
    )

    class Meta:
        model = Quote
        fields = [
            "id",
            "ref",
            "number",
            "status",
            "state",
            "client",
            "currency",
            "issue_date",
            "valid_until",
            "notes",
            "terms",
            "discount_kind",
            "discount_value",
            "lines",
            "tax_basis",
            "taxes",
            "subtotal",
            "discount_total",
            "tax_total",
            "total",
            "created_at",
            "sent_at",
            "withdrawn_at",
            "withdraw_reason",
            "invoice",
            "answer",
        ]
        read_only_fields = fields

    def get_ref(self, quote) -> str:
        return quote.number or str(quote.pk)

    @extend_schema_field(serializers.ChoiceField(choices=QuoteState.choices))
    def get_state(self, quote) -> str:
        return shown_state(quote, today=self.context["today"])

    def get_invoice(self, quote) -> str | None:
        if quote.invoice_id is None:
            return None
        return quote.invoice.number or str(quote.invoice_id)

    @extend_schema_field(QuoteAnswerSerializer(allow_null=True))
    def get_answer(self, quote) -> dict | None:
        answer = getattr(quote, "answer", None)
        return QuoteAnswerSerializer(answer).data if answer is not None else None


class QuoteInputSerializer(serializers.Serializer):
    client = CodeField(help_text="The client's code. A sent quote keeps its client.")
    # many=True makes a ListSerializer, which takes max_length (the stubs do not know).
    lines = LineInputSerializer(many=True, max_length=500)  # type: ignore[call-arg]
    notes = _text()
    terms = _text(help_text="Default: the quote terms of the settings.")
    discount_kind = serializers.ChoiceField(choices=DISCOUNT_KINDS, required=False)
    discount_value = DecimalStringField(places=3, allow_int=True, required=False)
    issue_date = serializers.DateField(
        required=False, allow_null=True, help_text="The quote's date; default: when it is sent."
    )
    valid_until = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Default: the settings' quote_valid_days after the quote's date.",
    )
    currency = serializers.CharField(
        required=False,
        help_text="Default: the client's. A draft's may change; a sent quote keeps it.",
    )


class MarkSentInputSerializer(serializers.Serializer):
    issue_date = serializers.DateField(required=False, allow_null=True, help_text="Default: today.")
    valid_until = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Default: the settings' quote_valid_days after the quote's date.",
    )


class QuoteAnswerInputSerializer(serializers.Serializer):
    answer = serializers.ChoiceField(choices=Answer.choices)
    name = serializers.CharField(help_text="Who answered, for the client.")
    channel = serializers.ChoiceField(
        choices=[(channel.value, channel.label) for channel in STAFF_CHANNELS],
        help_text="How the client answered. (Through the quote's link the client answers "
        "itself; converting a quote still sent records an acceptance by conversion.)",
    )
    reason = _text(help_text="Why, for a decline (optional).")


class SendQuoteInputSerializer(serializers.Serializer):
    to = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Addresses separated by commas, each sent its own message with its own link; "
        "default: the client's e-mail address.",
    )
    cc = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Addresses separated by commas that also receive the quote; default: none.",
    )
    subject = serializers.CharField(
        required=False,
        help_text="Default: the quote e-mail subject of the settings. Placeholders such as "
        "{quote_number} are filled in; {link} goes in the text, never the subject.",
    )
    body = serializers.CharField(
        required=False,
        trim_whitespace=False,
        help_text="Default: the quote e-mail text of the settings. Each recipient's link goes "
        "where {link} is, or on a line of its own at the end.",
    )


class DocumentLinkSerializer(serializers.ModelSerializer):
    live = serializers.BooleanField(
        source="is_live",
        read_only=True,
        help_text="Whether the link still opens its document: neither revoked nor expired.",
    )
    revoke_reason = serializers.CharField(
        read_only=True,
        help_text='Why it was revoked; "replaced" when a newer link to the same recipient '
        "replaced it.",
    )

    class Meta:
        model = DocumentLink
        fields = [
            "id",
            "recipient",
            "created_at",
            "expires_at",
            "revoked_at",
            "revoke_reason",
            "first_viewed_at",
            "last_viewed_at",
            "view_count",
            "live",
        ]
        read_only_fields = fields


class RevokeLinkInputSerializer(serializers.Serializer):
    reason = _text(help_text="Why (optional).")


# --- Payments -----------------------------------------------------------------------------


class PaymentSerializer(serializers.ModelSerializer):
    client: serializers.SlugRelatedField[Client] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    invoice = serializers.SerializerMethodField()
    amount = MoneyField(read_only=True)
    exchange_rate = DecimalStringField(
        places=10,
        read_only=True,
        allow_null=True,
        help_text="Base currency per unit, of its date, kept once confirmed.",
    )
    amount_in_base = MoneyField(read_only=True, allow_null=True)
    settled_in_base = MoneyField(
        read_only=True,
        allow_null=True,
        help_text="What it settles of its invoice's base total while it counts.",
    )
    exchange_difference = MoneyField(
        read_only=True,
        allow_null=True,
        help_text="The realised exchange gain (> 0) or loss (< 0), the business's.",
    )

    class Meta:
        model = Payment
        fields = [
            "id",
            "client",
            "invoice",
            "currency",
            "amount",
            "exchange_rate",
            "rate_date",
            "rate_source",
            "amount_in_base",
            "settled_in_base",
            "exchange_difference",
            "date",
            "method",
            "reference",
            "note",
            "status",
            "created_at",
            "confirmed_at",
            "reversed_at",
            "reversal_reason",
        ]
        read_only_fields = fields

    def get_invoice(self, payment) -> str | None:
        """The invoice's number, or null for credit on the client's account."""
        if payment.invoice_id is None:
            return None
        return payment.invoice.number or str(payment.invoice_id)


class ConfirmInputSerializer(serializers.Serializer):
    """Confirming a payment: the rate it keeps may be typed in."""

    exchange_rate = DecimalStringField(
        places=10,
        required=False,
        allow_null=True,
        help_text="When it is confirmed in another currency than the base one: the rate to "
        "keep (base currency per unit). Default: the newest stored on or before its date.",
    )
    rate_source = _text(help_text="Where a typed-in rate comes from.")


class PaymentInputSerializer(ConfirmInputSerializer):
    invoice = serializers.CharField(
        required=False, allow_null=True, help_text="Number of the invoice paid; empty: credit."
    )
    client = CodeField(required=False, allow_null=True, help_text="Needed without an invoice.")
    amount = MoneyField()
    date = serializers.DateField()
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    reference = _text()
    note = _text()
    confirmed = serializers.BooleanField(
        default=True, help_text="false: recorded as pending, to be confirmed later."
    )
    currency = serializers.CharField(
        required=False,
        help_text="Its invoice's; on account, default the client's.",
    )


class PaymentCorrectionSerializer(serializers.Serializer):
    """A pending payment's correction: only the fields sent change."""

    amount = MoneyField(required=False)
    date = serializers.DateField(required=False)
    method = serializers.ChoiceField(choices=PaymentMethod.choices, required=False)
    reference = _text()
    note = _text()


class StatementSendInputSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    to = _text(help_text="Default: the client's e-mail address.")
    cc = _text()
    currency = serializers.CharField(
        required=False,
        help_text="The account's currency (a client's account is kept per currency). "
        "Default: the client's.",
    )


class ReverseInputSerializer(serializers.Serializer):
    reason = serializers.CharField()


# --- E-mail -------------------------------------------------------------------------------


class SendInvoiceInputSerializer(serializers.Serializer):
    to = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Addresses separated by commas; default: the client's e-mail address.",
    )
    cc = serializers.CharField(required=False, allow_blank=True, default="")
    bcc = serializers.CharField(required=False, allow_blank=True, default="")
    subject = serializers.CharField(
        required=False, help_text="Default: the invoice e-mail subject of the settings."
    )
    body = serializers.CharField(
        required=False,
        trim_whitespace=False,
        help_text="Default: the invoice e-mail text of the settings. Placeholders such as "
        "{invoice_number} are filled in.",
    )
    issue_draft = serializers.BooleanField(
        default=False, help_text="Needed to send a draft: it is issued first."
    )


def _failure_kind():
    # Empty when nothing went wrong: "" belongs to the documented values.
    return serializers.ChoiceField(choices=FailureKind.choices, allow_blank=True, read_only=True)


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    failure_kind = _failure_kind()

    class Meta:
        model = DeliveryAttempt
        fields = [
            "started_at",
            "finished_at",
            "outcome",
            "failure_kind",
            "smtp_code",
            "server_answer",
            "problem",
            "server",
            "recipients",
        ]
        read_only_fields = fields


class MessageSerializer(serializers.ModelSerializer):
    invoice = serializers.SerializerMethodField()
    quote = serializers.SerializerMethodField()
    to = serializers.CharField(source="to_addresses", read_only=True)
    cc = serializers.CharField(source="cc_addresses", read_only=True)
    bcc = serializers.CharField(source="bcc_addresses", read_only=True)
    attachment_sha256 = serializers.SerializerMethodField()
    failure_kind = _failure_kind()
    attempts = DeliveryAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "kind",
            "status",
            "invoice",
            "quote",
            "payment",
            "to",
            "cc",
            "bcc",
            "subject",
            "body",
            "attachment_name",
            "attachment_sha256",
            "attempt_count",
            "next_attempt_at",
            "sent_at",
            "failure_kind",
            "problem",
            "needs_attention",
            "created_at",
            "attempts",
        ]
        read_only_fields = fields

    def get_invoice(self, message) -> str | None:
        """The invoice's number, or null."""
        return message.invoice.number if message.invoice_id else None

    def get_quote(self, message) -> str | None:
        """The quote's number (a quote is numbered once sent), or null."""
        return message.quote.number if message.quote_id else None

    def get_attachment_sha256(self, message) -> str | None:
        """SHA-256 of the exact PDF that went out, or null without an attachment."""
        return message.attachment.sha256 if message.attachment_id else None


# --- Ledger -------------------------------------------------------------------------------


class LedgerEntrySerializer(serializers.ModelSerializer):
    amount = MoneyField(read_only=True)
    running_balance = MoneyField(read_only=True)
    invoice = serializers.SerializerMethodField()
    payment: serializers.PrimaryKeyRelatedField[Payment] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "date",
            "kind",
            "amount",
            "currency",
            "running_balance",
            "memo",
            "invoice",
            "payment",
            "created_at",
        ]
        read_only_fields = fields

    def get_invoice(self, entry) -> str | None:
        if entry.invoice_id is None:
            return None
        return entry.invoice.number or str(entry.invoice_id)


class LedgerPageSerializer(serializers.Serializer):
    """A page of a client's ledger in one currency, with the client's balance in it now."""

    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = LedgerEntrySerializer(many=True)
    currency = serializers.CharField()
    balance = MoneyField()


class ManualEntryInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["credit", "debit"])
    amount = MoneyField()
    memo = serializers.CharField()
    date = serializers.DateField(required=False, allow_null=True)
    currency = serializers.CharField(
        required=False,
        help_text="The account's currency. Default: the client's.",
    )


# --- Settings -----------------------------------------------------------------------------

# The logo is uploaded on the settings page; the API shows its address.
API_SETTINGS_FIELDS = sorted(SETTINGS_FIELDS - {"logo", "smtp_password"})


class SettingsSerializer(serializers.ModelSerializer):
    email = _shown_text()
    website = _shown_text()
    smtp_from_email = _shown_text()
    logo = serializers.SerializerMethodField()
    smtp_password_set = serializers.SerializerMethodField(
        help_text="Whether an SMTP password is stored; the password itself is never shown."
    )

    class Meta:
        model = BusinessSettings
        fields = [*API_SETTINGS_FIELDS, "logo", "smtp_password_set", "updated_at"]
        read_only_fields = fields

    def get_logo(self, settings) -> str | None:
        return settings.logo.url if settings.logo else None

    def get_smtp_password_set(self, settings) -> bool:
        return bool(settings.smtp_password)


class SettingsInputSerializer(serializers.ModelSerializer):
    smtp_password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        allow_null=True,
        trim_whitespace=False,
        help_text='Write-only. Leave out (or null) to keep the stored one; "" clears it.',
    )

    class Meta:
        model = BusinessSettings
        fields = [*API_SETTINGS_FIELDS, "smtp_password"]
        # Every rule is checked by update_business_settings, which says what is wrong.
        extra_kwargs = {name: {"validators": [], "required": False} for name in fields}


# --- Recurring invoices -------------------------------------------------------------------


class ScheduleLineSerializer(InvoiceLineSerializer):
    taxes = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        allow_null=True,
        help_text="The labels of the client's taxes the line carries; null: all of them.",
    )
    amount = MoneyField(read_only=True, help_text="The line's amount as the template stands.")

    class Meta:
        model = ScheduleLine
        fields = ["position", *ScheduleLine.INPUT_FIELDS, "amount"]
        read_only_fields = fields


class PauseSerializer(serializers.ModelSerializer):
    ends_on = serializers.DateField(
        read_only=True,
        allow_null=True,
        help_text="The day billing resumes (its occurrence is billed); null: still paused.",
    )

    class Meta:
        model = Pause
        fields = ["starts_on", "ends_on", "created_at"]
        read_only_fields = fields


class OccurrenceSerializer(serializers.ModelSerializer):
    invoice = serializers.IntegerField(
        source="invoice_id",
        read_only=True,
        allow_null=True,
        help_text="The id of the invoice made; null: skipped, or a review draft deleted.",
    )
    invoice_number = serializers.SerializerMethodField(
        help_text="The invoice's number once issued, else null."
    )
    draft_deleted = serializers.BooleanField(
        read_only=True,
        help_text="Its review draft was deleted: not made again, shown as skipped.",
    )

    class Meta:
        model = Occurrence
        fields = [
            "index",
            "date",
            "outcome",
            "invoice",
            "invoice_number",
            "draft_deleted",
            "note",
            "recorded_at",
        ]
        read_only_fields = fields

    def get_invoice_number(self, occurrence) -> str | None:
        return occurrence.invoice.number if occurrence.invoice_id else None


NEXT_DATE_KINDS = [("invoice", "An invoice"), ("paused", "Skipped: paused")]


class NextDateSerializer(serializers.Serializer):
    date = serializers.DateField(read_only=True)
    kind = serializers.ChoiceField(
        choices=NEXT_DATE_KINDS,
        read_only=True,
        help_text="invoice: a run on or after the date makes its invoice; paused: the date "
        "falls in a pause and is skipped.",
    )


SCHEDULE_PLAN_FIELDS = [
    "start_date",
    "interval_count",
    "interval_unit",
    "day_rule",
    "end_kind",
    "end_after",
    "end_date",
    "issue_mode",
    "email_invoices",
]


class ScheduleSerializer(serializers.ModelSerializer):
    client: serializers.SlugRelatedField[Client] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    discount_value = DecimalStringField(places=3, read_only=True)
    lines = ScheduleLineSerializer(many=True, read_only=True)
    state = serializers.ChoiceField(
        choices=ScheduleState.choices,
        read_only=True,
        help_text="active; paused (a pause without an end is open); ended (by hand, or "
        "its end reached).",
    )
    next_date = serializers.DateField(
        read_only=True,
        allow_null=True,
        help_text="The date of the first occurrence not yet recorded (paused ones included).",
    )

    class Meta:
        model = Schedule
        fields = [
            "id",
            "name",
            "client",
            "currency",
            "notes",
            "terms",
            "discount_kind",
            "discount_value",
            "lines",
            *SCHEDULE_PLAN_FIELDS,
            "state",
            "next_date",
            "ended_at",
            "end_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ScheduleDetailSerializer(ScheduleSerializer):
    invoices_made = serializers.SerializerMethodField(
        help_text='How many invoices it has made ("after N invoices" counts these).'
    )
    next_dates = serializers.SerializerMethodField(
        help_text="Its next 12 dates as a run would record them, stopping at its end."
    )
    pauses = PauseSerializer(many=True, read_only=True)
    occurrences = OccurrenceSerializer(
        many=True, read_only=True, help_text="Every date recorded, oldest first."
    )

    class Meta(ScheduleSerializer.Meta):
        fields = [
            *ScheduleSerializer.Meta.fields,
            "invoices_made",
            "next_dates",
            "pauses",
            "occurrences",
        ]
        read_only_fields = fields

    def get_invoices_made(self, schedule) -> int:
        return recurring.invoices_made(schedule)

    @extend_schema_field(NextDateSerializer(many=True))
    def get_next_dates(self, schedule) -> list[dict]:
        return [{"date": day.isoformat(), "kind": kind} for day, kind in next_dates(schedule)]


class ScheduleInputSerializer(serializers.Serializer):
    """Types and shapes only; recurring.services checks the rules and names the field."""

    name = serializers.CharField(help_text="What the schedule bills, such as “Hosting”.")
    client = CodeField(
        help_text="The client's code. Fixed once the schedule has recorded an occurrence."
    )
    # many=True makes a ListSerializer, which takes max_length (the stubs do not know).
    lines = LineInputSerializer(many=True, max_length=500)  # type: ignore[call-arg]
    currency = serializers.CharField(
        required=False,
        help_text="Default: the client's. Fixed once the schedule has recorded an occurrence.",
    )
    notes = _text(help_text="{period}, {month} and {year} are filled in for each invoice.")
    terms = _text(help_text="Default: the payment terms text of the settings.")
    discount_kind = serializers.ChoiceField(choices=DISCOUNT_KINDS, required=False)
    discount_value = DecimalStringField(places=3, allow_int=True, required=False)
    start_date = serializers.DateField(
        help_text="The first invoice's date (SPEC: the start itself is billed)."
    )
    interval_count = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_INTERVAL, help_text="Every N units; default 1."
    )
    interval_unit = serializers.ChoiceField(choices=IntervalUnit.choices, required=False)
    day_rule = serializers.ChoiceField(
        choices=DayRule.choices,
        required=False,
        help_text="start_day: the start's day of the month, the month's last day when "
        "shorter; last_day: always the month's last day (the start must be one).",
    )
    end_kind = serializers.ChoiceField(choices=EndKind.choices, required=False)
    end_after = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=100_000,
        help_text='With end_kind "after": how many invoices it makes.',
    )
    end_date = serializers.DateField(
        required=False,
        allow_null=True,
        help_text='With end_kind "on_date": the date of the last possible invoice.',
    )
    issue_mode = serializers.ChoiceField(
        choices=IssueMode.choices,
        required=False,
        help_text="issue: each invoice is issued when made; draft: left to review.",
    )
    email_invoices = serializers.BooleanField(
        required=False, help_text="E-mail each invoice to the client when it is issued."
    )


class PauseInputSerializer(serializers.Serializer):
    starts_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Default: today. Its occurrences from that day on are skipped, never "
        "billed later.",
    )


class ResumeInputSerializer(serializers.Serializer):
    ends_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Default: today. The occurrence of that day and those after are billed.",
    )


class EndInputSerializer(serializers.Serializer):
    reason = _text(help_text="Why it ends (optional).")
