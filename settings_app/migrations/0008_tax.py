import django.core.validators
from django.db import migrations, models

import settings_app.models


def taxes_from_the_settings(apps, schema_editor):
    """The single tax of the settings (label, rate, number) becomes the one Tax of the
    default set; a rate of 0 charged nothing, so it becomes no Tax at all."""
    settings = apps.get_model("settings_app", "BusinessSettings").objects.first()
    if settings is not None and settings.tax_rate > 0:
        apps.get_model("settings_app", "Tax").objects.create(
            label=(settings.tax_label or "Tax")[:50],
            rate=settings.tax_rate,
            number=settings.tax_number,
            is_active=True,
            in_default_set=True,
            position=1,
        )


def tax_into_the_settings(apps, schema_editor):
    """Back: the first tax of the default set is the settings' single tax again."""
    settings = apps.get_model("settings_app", "BusinessSettings").objects.first()
    tax = (
        apps.get_model("settings_app", "Tax")
        .objects.filter(is_active=True, in_default_set=True)
        .order_by("position", "id")
        .first()
    )
    if settings is not None and tax is not None:
        settings.tax_label, settings.tax_rate, settings.tax_number = tax.label, tax.rate, tax.number
        settings.save(update_fields=["tax_label", "tax_rate", "tax_number"])


class Migration(migrations.Migration):
    dependencies = [
        ("settings_app", "0007_greet_the_contact_person"),
    ]

    operations = [
        migrations.CreateModel(
            name="Tax",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "label",
                    models.CharField(
                        help_text="e.g. GST, QST",
                        max_length=50,
                        validators=[settings_app.models.validate_one_line],
                        verbose_name="label",
                    ),
                ),
                (
                    "rate",
                    models.DecimalField(
                        decimal_places=4,
                        max_digits=7,
                        validators=[
                            django.core.validators.MinValueValidator(0),
                            django.core.validators.MaxValueValidator(100),
                        ],
                        verbose_name="rate (%)",
                    ),
                ),
                (
                    "number",
                    models.CharField(
                        blank=True,
                        help_text="Printed beside the tax on every document, e.g. 123456789 RT0001.",
                        max_length=100,
                        validators=[settings_app.models.validate_one_line],
                        verbose_name="registration number",
                    ),
                ),
                (
                    "is_active",
                    models.BooleanField(
                        default=True,
                        help_text="Inactive taxes are never put on new documents.",
                        verbose_name="active",
                    ),
                ),
                (
                    "in_default_set",
                    models.BooleanField(
                        default=True,
                        help_text="Charged to every client that uses the default set.",
                        verbose_name="in the default set",
                    ),
                ),
                (
                    "position",
                    models.PositiveSmallIntegerField(
                        default=0,
                        help_text="Taxes are listed on documents in this order.",
                        verbose_name="order",
                    ),
                ),
            ],
            options={
                "verbose_name": "tax",
                "verbose_name_plural": "taxes",
                "ordering": ["position", "id"],
                "constraints": [
                    models.UniqueConstraint(fields=("label",), name="tax_label_unique"),
                    models.CheckConstraint(
                        condition=models.Q(("rate__gte", 0), ("rate__lte", 100)),
                        name="tax_rate_0_to_100",
                    ),
                ],
            },
        ),
        migrations.RunPython(taxes_from_the_settings, tax_into_the_settings),
    ]
