"""`guanxi backup PATH`: the database and the uploaded files in one archive (see guanxi.core.backup)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from guanxi.core.backup import BackupError, backup_create


class Command(BaseCommand):
    help = "Back up the database and the uploaded files into one archive (.tar, or .tar.gz to compress)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="archive to write (replaced if it exists)")
        parser.add_argument("--database", default="default", help="database alias (default: default)")

    def handle(self, *args, **options) -> None:
        try:
            outcome = backup_create(options["path"], using=options["database"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        manifest = outcome.manifest
        rows = sum(manifest["tables"].values())
        media = sum(1 for name in manifest["files"] if name.startswith("media/"))
        self.stdout.write(
            _(
                "Backup written to %(path)s: %(vendor)s, %(tables)s tables, %(rows)s rows, %(files)s uploaded files, "
                "%(size).1f MB in %(seconds).1f s."
            )
            % {
                "path": outcome.path,
                "vendor": manifest["vendor"],
                "tables": len(manifest["tables"]),
                "rows": rows,
                "files": media,
                "size": outcome.size / 1e6,
                "seconds": outcome.seconds,
            }
        )
