"""An invoice keeps the decision whether tax applies (``Invoice.tax_applied``), and the
client's balance moves to the ledger's accounts (ledger 0004 fills them from the entries)."""

from decimal import Decimal

from django.db import migrations, models
from django.db.models import DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

ZERO = Decimal("0.00")


def decide_tax(apps, schema_editor):
    """From the stored figures: an issued invoice with taxable lines left to charge (a base
    before tax that is not all discount) and a tax rate, but no tax base, was made without
    tax. Every other invoice is taxed as its client and the settings say now, which is also
    what its figures show (drafts decide again whenever they are saved anyway)."""
    Invoice = apps.get_model("billing", "Invoice")
    InvoiceLine = apps.get_model("billing", "InvoiceLine")
    InvoiceTax = apps.get_model("billing", "InvoiceTax")
    Settings = apps.get_model("settings_app", "BusinessSettings")
    settings = Settings.objects.first()
    amount = DecimalField(max_digits=16, decimal_places=2)
    taxable = (
        InvoiceLine.objects.filter(invoice=OuterRef("pk"), taxable=True)
        .order_by()
        .values("invoice")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    base = (
        InvoiceTax.objects.filter(invoice=OuterRef("pk"), rate__gt=0)
        .order_by()
        .values("invoice")
        .annotate(s=Sum("base"))
        .values("s")
    )
    taxed_rates = InvoiceTax.objects.filter(invoice=OuterRef("pk"), rate__gt=0)
    annotated = Invoice.objects.annotate(
        taxable=Coalesce(Subquery(taxable, output_field=amount), Value(ZERO), output_field=amount),
        base=Coalesce(Subquery(base, output_field=amount), Value(ZERO), output_field=amount),
        has_rate=models.Exists(taxed_rates),
    )
    untaxed = annotated.filter(
        number__isnull=False,
        has_rate=True,
        taxable__gt=0,
        base=0,
        discount_total__lt=models.F("subtotal"),
    )
    Invoice.objects.filter(pk__in=untaxed.values("pk")).update(tax_applied=False)
    if settings is not None:
        # Drafts, and issued invoices whose figures cannot tell: the rule as it stands.
        undecided = annotated.filter(Q(number__isnull=True) | Q(taxable=0) | ~Q(has_rate=True))
        exempt = Q(client__tax_exempt=True)
        if settings.tax_local_clients_only:
            exempt |= ~Q(client__country=settings.local_country)
        Invoice.objects.filter(pk__in=undecided.filter(exempt).values("pk")).update(
            tax_applied=False
        )


def restore_client_balances(apps, schema_editor):
    """Back to a balance on the client: the sum of its ledger entries."""
    Client = apps.get_model("billing", "Client")
    LedgerEntry = apps.get_model("ledger", "LedgerEntry")
    amount = DecimalField(max_digits=16, decimal_places=2)
    entries = (
        LedgerEntry.objects.filter(client=OuterRef("pk"))
        .order_by()
        .values("client")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    Client.objects.update(
        balance=Coalesce(Subquery(entries, output_field=amount), Value(ZERO), output_field=amount)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0008_report_indexes"),
        ("ledger", "0003_entry_currency"),
        ("settings_app", "0004_default_reminder_stages"),
    ]

    operations = [
        migrations.AddField(
            model_name="invoice",
            name="tax_applied",
            field=models.BooleanField(default=True, editable=False, verbose_name="tax applies"),
        ),
        migrations.RunPython(decide_tax, migrations.RunPython.noop),
        migrations.RunPython(migrations.RunPython.noop, restore_client_balances),
        migrations.RemoveField(model_name="client", name="balance"),
    ]
