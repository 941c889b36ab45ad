from django.db import migrations


class Migration(migrations.Migration):
    """The single tax of the settings is a Tax now (0008), and each invoice's tax set names
    its own registration number (billing 0014): the settings' fields go."""

    dependencies = [
        ("settings_app", "0008_tax"),
        ("billing", "0014_tax_sets"),
    ]

    operations = [
        migrations.RemoveField(model_name="businesssettings", name="tax_label"),
        migrations.RemoveField(model_name="businesssettings", name="tax_number"),
        migrations.RemoveField(model_name="businesssettings", name="tax_rate"),
    ]
