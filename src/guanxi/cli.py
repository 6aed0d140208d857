"""The `guanxi` command: Django's manage.py plus Guanxi's own commands (serve, demo, createuser)."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")
    from django.conf import settings
    from django.core.management import execute_from_command_line

    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        settings.GUANXI_HOME.mkdir(parents=True, exist_ok=True)
    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
