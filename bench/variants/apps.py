from django.apps import AppConfig
from django.conf import settings


class PatchesConfig(AppConfig):
    name = "variants"
    label = "bench_variants"

    def ready(self) -> None:
        from variants import patches

        for name in getattr(settings, "BENCH_PATCHES", []):
            getattr(patches, name)()
