from django.db import migrations


def create_counter(apps, schema_editor):
    # Created here, never on demand: two first senders racing to create it would collide.
    Counter = apps.get_model("billing", "InvoiceNumberCounter")
    Counter.objects.get_or_create(name="quote", defaults={"last_number": 0})


def remove_counter(apps, schema_editor):
    apps.get_model("billing", "InvoiceNumberCounter").objects.filter(name="quote").delete()


class Migration(migrations.Migration):
    dependencies = [("quotes", "0001_initial")]

    operations = [migrations.RunPython(create_counter, remove_counter)]
