"""The day each cancellation was made: the date of its ledger entry (every cancellation posted
one), so the reports and the exports count it in that period, as a negative."""

from django.conf import settings
from django.db import migrations, models


def fill_cancelled_on(apps, schema_editor):
    Invoice = apps.get_model("billing", "Invoice")
    LedgerEntry = apps.get_model("ledger", "LedgerEntry")
    days = dict(
        LedgerEntry.objects.filter(kind="invoice_cancelled", invoice__isnull=False)
        .order_by("invoice_id", "id")
        .values_list("invoice_id", "date")
    )
    for invoice in Invoice.objects.filter(cancelled_at__isnull=False).only("pk", "cancelled_at"):
        day = days.get(invoice.pk, invoice.cancelled_at.date())
        Invoice.objects.filter(pk=invoice.pk).update(cancelled_on=day)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0020_client_contacts"),
        ("ledger", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="invoice",
            name="cancelled_on",
            field=models.DateField(
                blank=True, editable=False, null=True, verbose_name="cancelled on"
            ),
        ),
        migrations.RunPython(fill_cancelled_on, migrations.RunPython.noop, elidable=False),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(
                fields=["cancelled_on", "currency", "client", "total", "tax_total"],
                name="invoice_cancelled_figures",
            ),
        ),
        migrations.AddConstraint(
            model_name="invoice",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("cancelled_at__isnull", True), ("cancelled_on__isnull", True)),
                    models.Q(("cancelled_at__isnull", False), ("cancelled_on__isnull", False)),
                    _connector="OR",
                ),
                name="invoice_cancelled_has_day",
            ),
        ),
    ]
