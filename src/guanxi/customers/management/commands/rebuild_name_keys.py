"""`guanxi rebuild_name_keys`: recompute Customer.name_key after the normalisation rules changed."""

from django.core.management.base import BaseCommand
from django.db import transaction

from guanxi.customers.models import Customer
from guanxi.customers.normalize import name_key


class Command(BaseCommand):
    help = "Recompute the normalised name (duplicate detection) of every customer, in batches; idempotent."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch", type=int, default=5000)

    def handle(self, *args, **options) -> None:
        last_id, scanned, changed = 0, 0, 0
        while True:
            batch = list(
                Customer.objects.filter(pk__gt=last_id)
                .order_by("pk")
                .only("pk", "name", "name_key")[: options["batch"]]
            )
            if not batch:
                break
            stale = [c for c in batch if c.name_key != name_key(c.name)]
            for customer in stale:
                customer.name_key = name_key(customer.name)
            with transaction.atomic():
                Customer.objects.bulk_update(stale, ["name_key"])
            scanned, changed, last_id = scanned + len(batch), changed + len(stale), batch[-1].pk
        self.stdout.write(f"{scanned} customers scanned, {changed} name keys updated.")
