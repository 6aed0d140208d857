"""`guanxi service_analysis_rebuild [--from D] [--to D]`: recompute the complaint analysis' rollups from the tickets
(after a bulk load by COPY, a restore, or a fix made in SQL); idempotent. One day, then one month, per transaction:
ticket writes meanwhile wait for one unit at most and stay counted exactly once (service.rollups)."""

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from guanxi.service import rollups


def _day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--{name}: enter a date as YYYY-MM-DD") from exc


class Command(BaseCommand):
    help = "Recompute the complaint analysis' daily rollups of the tickets created in a range of days (default: all)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--from", dest="date_from", help="first local day, YYYY-MM-DD (default: the first ticket)")
        parser.add_argument("--to", dest="date_to", help="last local day, YYYY-MM-DD (default: the last ticket)")

    def handle(self, *args, **options) -> None:
        date_from, date_to = _day(options["date_from"], "from"), _day(options["date_to"], "to")
        if date_from and date_to and date_to < date_from:
            raise CommandError("--to: the end of the range is before its start")
        started = time.monotonic()
        result = rollups.rebuild(date_from=date_from, date_to=date_to)
        self.stdout.write(
            f"{result['tickets']} tickets, {result['rollup_rows']} rollup rows, {result['units']} units "
            f"in {time.monotonic() - started:.1f} s."
        )
