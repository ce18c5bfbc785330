#!/usr/bin/env python3
"""The platform's legacy Django project, as the design note describes it: the
four settings models (app `system`), an Account with a plan (app `accounts`)
and a Plan (app `billing`). aiconfig's import and drop-in are tested against
real `dumpdata` output of this project, never hand-written JSON.

    python3 manage.py migrate --run-syncdb
    python3 manage.py seed_legacy            # the realistic mix the tests need
    python3 manage.py dumpdata system.GlobalIntegrationSettings system.IntegrationSettings \
        system.GlobalAIPrompt system.AIPrompt accounts.Account billing.Plan > dump.json

The SQLite file is AICONFIG_LEGACY_DB (default: legacy.sqlite3 beside this file).
"""
import os
import sys

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "legacy.settings")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
