from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SettingsAppConfig(AppConfig):
    name = "settings_app"
    verbose_name = _("Settings")

    def ready(self):
        from .zone import install_for_commands

        install_for_commands()
