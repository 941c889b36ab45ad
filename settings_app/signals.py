"""What the settings tell the apps that build on them. They connect receivers in their
``AppConfig.ready()``; the settings import none of them."""

from django.dispatch import Signal

# Sent by ``update_business_settings`` inside the transaction that saved the settings, with
# ``settings`` (the saved row) and ``changed`` (the set of the names of the fields whose
# value changed); not sent when nothing changed. A receiver's writes are part of that
# transaction, and an error it raises refuses the change: nothing is saved.
business_settings_changed = Signal()
