"""`guanxi demo [--customers N] [--password P] [--if-empty]`."""

from django.core.management.base import BaseCommand

from guanxi.demo import build_demo, database_is_empty


class Command(BaseCommand):
    help = "Load a demo power-supply company: organisation, one user per role, customers and contacts."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--customers", type=int, default=2000)
        parser.add_argument("--password", default="guanxi-demo")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when users already exist")

    def handle(self, *args, **options) -> None:
        if not database_is_empty():
            if options["if_empty"]:
                self.stdout.write("Database already has data; demo not loaded.")
                return
            self.stderr.write("The database already has users; the demo needs an empty database.")
            raise SystemExit(1)
        users = build_demo(customers=options["customers"], password=options["password"])
        self.stdout.write(f"Demo loaded: {options['customers']} customers. Users (password: {options['password']}):")
        for username, role, unit in users:
            self.stdout.write(f"  {username:<10} {role:<16} {unit}")
