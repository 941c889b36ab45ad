import itertools

import django.db.models.deletion
from django.db import migrations, models

UNTAXED = ("exempt", "foreign")


def tax_sets(apps, schema_editor):
    """Each invoice's tax decision becomes its tax set. A taxed invoice keeps its tax row,
    which gains the registration number its documents printed (the settings' one) and the
    Tax it came from; an untaxed one loses its row of zeros (an empty set) and says why:
    tax-exempt or abroad. No figure changes: the test of this migration checks every one."""
    Invoice = apps.get_model("billing", "Invoice")
    InvoiceTax = apps.get_model("billing", "InvoiceTax")
    Tax = apps.get_model("settings_app", "Tax")
    settings = apps.get_model("settings_app", "BusinessSettings").objects.first()
    Invoice.objects.filter(tax_applied=False, client__tax_exempt=True).update(tax_basis="exempt")
    Invoice.objects.filter(tax_applied=False, client__tax_exempt=False).update(tax_basis="foreign")
    InvoiceTax.objects.filter(invoice__tax_applied=False, base=0, amount=0).delete()
    if settings is not None and settings.tax_number:
        InvoiceTax.objects.update(number=settings.tax_number)
    for tax in Tax.objects.all():
        InvoiceTax.objects.filter(label=tax.label, rate=tax.rate).update(tax=tax)


def tax_decisions(apps, schema_editor):
    """Back: an invoice with no tax because of its client is not taxed, with the row of
    zeros it had, labelled as the settings' single tax."""
    Invoice = apps.get_model("billing", "Invoice")
    InvoiceTax = apps.get_model("billing", "InvoiceTax")
    Invoice.objects.filter(tax_basis__in=UNTAXED).update(tax_applied=False)
    tax = (
        apps.get_model("settings_app", "Tax")
        .objects.filter(is_active=True, in_default_set=True)
        .order_by("position", "id")
        .first()
    )
    if tax is None:
        return
    bare = Invoice.objects.filter(tax_basis__in=UNTAXED, taxes__isnull=True)
    rows = (
        InvoiceTax(invoice_id=pk, position=1, label=tax.label, rate=tax.rate, base=0, amount=0)
        for pk in list(bare.values_list("pk", flat=True))
    )
    while batch := list(itertools.islice(rows, 1000)):
        InvoiceTax.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0013_invoice_total_index"),
        ("settings_app", "0008_tax"),
    ]

    operations = [
        migrations.AddField(
            model_name="client",
            name="taxes",
            field=models.ManyToManyField(
                blank=True,
                help_text="Charged instead of the default set when the box above is unticked.",
                related_name="clients",
                to="settings_app.tax",
                verbose_name="own taxes",
            ),
        ),
        migrations.AddField(
            model_name="client",
            name="uses_default_taxes",
            field=models.BooleanField(
                default=True,
                help_text="Untick to charge this client its own taxes below (none for no tax).",
                verbose_name="uses the default taxes",
            ),
        ),
        migrations.AddField(
            model_name="invoice",
            name="tax_basis",
            field=models.CharField(
                choices=[
                    ("default", "Default taxes"),
                    ("client", "Client's own taxes"),
                    ("exempt", "Tax-exempt"),
                    ("foreign", "Client abroad"),
                ],
                default="default",
                editable=False,
                max_length=10,
                verbose_name="tax basis",
            ),
        ),
        migrations.AddField(
            model_name="invoiceline",
            name="taxes",
            field=models.JSONField(blank=True, default=None, null=True, verbose_name="taxes"),
        ),
        migrations.AddField(
            model_name="invoicetax",
            name="number",
            field=models.CharField(blank=True, max_length=100, verbose_name="registration number"),
        ),
        migrations.AddField(
            model_name="invoicetax",
            name="tax",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="settings_app.tax",
            ),
        ),
        migrations.AddField(
            model_name="service",
            name="taxes",
            field=models.ManyToManyField(
                blank=True,
                help_text="Leave empty to carry every tax of the document; or name them (PST not on services, say).",
                related_name="services",
                to="settings_app.tax",
                verbose_name="taxes it carries",
            ),
        ),
        migrations.AlterField(
            model_name="client",
            name="tax_exempt",
            field=models.BooleanField(
                default=False,
                help_text="With the default set: no tax on this client's documents.",
                verbose_name="tax-exempt",
            ),
        ),
        migrations.AddConstraint(
            model_name="invoicetax",
            constraint=models.UniqueConstraint(
                fields=("invoice", "label"), name="invoice_tax_label_unique"
            ),
        ),
        migrations.RunPython(tax_sets, tax_decisions),
        migrations.RemoveField(model_name="invoice", name="tax_applied"),
    ]
