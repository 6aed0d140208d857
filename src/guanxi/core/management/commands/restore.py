"""`guanxi restore PATH [--force]`: replace the database and the uploaded files with a backup's."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from guanxi.core.backup import BackupError, backup_inspect, backup_restore


class Command(BaseCommand):
    help = "Restore a backup made by `guanxi backup` (the target must be empty unless --force)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="archive written by guanxi backup")
        parser.add_argument("--database", default="default", help="database alias (default: default)")
        parser.add_argument(
            "--force", action="store_true", help="replace a database and media directory that already hold data"
        )
        parser.add_argument("--check", action="store_true", help="only verify the archive; change nothing")

    def handle(self, *args, **options) -> None:
        try:
            if options["check"]:
                manifest = backup_inspect(options["path"])
                self.stdout.write(
                    _("The backup is intact: %(vendor)s, made %(created)s by Guanxi %(version)s, %(rows)s rows.")
                    % {
                        "vendor": manifest["vendor"],
                        "created": manifest["created_at"],
                        "version": manifest["app_version"],
                        "rows": sum(manifest["tables"].values()),
                    }
                )
                return
            outcome = backup_restore(options["path"], using=options["database"], force=options["force"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        manifest = outcome.manifest
        self.stdout.write(
            _("Restored %(path)s (made %(created)s): %(tables)s tables, %(rows)s rows, in %(seconds).1f s.")
            % {
                "path": outcome.path,
                "created": manifest["created_at"],
                "tables": len(manifest["tables"]),
                "rows": sum(manifest["tables"].values()),
                "seconds": outcome.seconds,
            }
        )
        for note in outcome.notes:
            self.stdout.write(self.style.WARNING(note))
