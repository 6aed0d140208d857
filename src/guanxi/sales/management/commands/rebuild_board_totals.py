"""Recompute the kanban's stored stage totals from the deals (sales.board_totals), or only compare them."""

import sys

from django.core.management.base import BaseCommand

from guanxi.sales import board_totals


class Command(BaseCommand):
    help = "Rebuild the kanban stage totals (sales_boardtotal) from the open deals; --check only compares."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="compare with the deals, change nothing; exit 1 if they differ"
        )

    def handle(self, *args, check: bool = False, **options):
        if check:
            wrong = board_totals.differences()
            for key, (have, want) in sorted(wrong.items()):
                self.stdout.write(f"{key}: stored {have}, deals {want}")
            if wrong:
                self.stdout.write(f"{len(wrong)} stored totals differ from the deals")
                sys.exit(1)
            self.stdout.write("stored totals equal the deals")
            return
        rows = board_totals.rebuild()
        self.stdout.write(f"rebuilt {rows} stored totals")
