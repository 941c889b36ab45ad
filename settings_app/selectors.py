import datetime

from django.utils import timezone

from .models import BusinessSettings


def get_business_settings() -> BusinessSettings:
    """The settings row, created with the defaults the first time it is asked for."""
    settings, _ = BusinessSettings.objects.get_or_create(pk=BusinessSettings.SINGLETON_PK)
    return settings


def business_today(settings: BusinessSettings | None = None) -> datetime.date:
    """Today in the business's time zone: what issue dates, due dates and overdue go by."""
    settings = settings or get_business_settings()
    return timezone.localdate(timezone=settings.zone)
