"""Settings for the test suite: ``otb.settings`` with a fixed test key and faster hashing.

The instance's env file is not read, so a developer's .env cannot change what the tests
see; DATABASE_URL from the real environment still picks the database (CI runs MariaDB so).
"""

import os

os.environ.setdefault("OTB_ENV_FILE", "/nonexistent/otb-test.env")
os.environ.setdefault(
    "SECRET_KEY", "test-only-secret-key-that-is-long-enough-for-checks-0123456789"
)

from .settings import *  # noqa: F403
from .settings import DATABASES, STORAGES, VAR_DIR

OTB_AUDIT_STRICT = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: the concurrency tests start processes that share the database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
# Serve static files from the app folders: the tests run without collectstatic.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
