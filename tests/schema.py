"""The migration tests' help with MariaDB's instant schema changes."""

from django.db import connection


def purge_dropped_columns(*tables: str) -> None:
    """Rebuild ``tables`` on MariaDB (``ALTER TABLE … FORCE``), so the columns earlier
    tests' migrations dropped are gone for good. MariaDB drops a column instantly by hiding
    it, and still counts hidden columns against the 8 KB a row may take: after a few
    migrations back and forth, the settings table's next change would be refused ("Row size
    too large"), which no forward upgrade meets. Nothing to do on SQLite."""
    if connection.vendor != "mysql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ALTER TABLE {connection.ops.quote_name(table)} FORCE")
