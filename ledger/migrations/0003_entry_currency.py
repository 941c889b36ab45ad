"""Each ledger entry says the currency of its amount, so money collected per currency is
summed from an index of the ledger alone (the reports) instead of through every payment,
invoice and client it names."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce


def set_currency(apps, schema_editor):
    """The invoice's currency, or for an entry without one the client's (as post_entry)."""
    LedgerEntry = apps.get_model("ledger", "LedgerEntry")
    Invoice = apps.get_model("billing", "Invoice")
    Client = apps.get_model("billing", "Client")
    LedgerEntry.objects.update(
        currency=Coalesce(
            Subquery(Invoice.objects.filter(pk=OuterRef("invoice_id")).values("currency")[:1]),
            Subquery(
                Client.objects.filter(pk=OuterRef("client_id")).values("default_currency")[:1]
            ),
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0007_outstanding_span"),
        ("ledger", "0002_indexes_for_volume"),
    ]

    operations = [
        migrations.AddField(
            model_name="ledgerentry",
            name="currency",
            field=models.CharField(
                default="", editable=False, max_length=3, verbose_name="currency"
            ),
            preserve_default=False,
        ),
        migrations.RunPython(set_currency, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(
                fields=["kind", "date", "currency", "amount"], name="ledger_kind_date"
            ),
        ),
    ]
