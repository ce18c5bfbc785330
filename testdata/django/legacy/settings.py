"""Settings of the legacy project: SQLite, no admin, no migrations (syncdb)."""
import os

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET_KEY = "legacy-test-project-not-a-secret"
DEBUG = False
USE_TZ = True
INSTALLED_APPS = ["billing", "accounts", "system"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("AICONFIG_LEGACY_DB", os.path.join(BASE_DIR, "legacy.sqlite3")),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
