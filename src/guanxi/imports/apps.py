from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "guanxi.imports"
    label = "imports"
    verbose_name = _("Imports")

    def ready(self) -> None:
        # Every app that can import something registers its importers in `<app>/importers.py`.
        autodiscover_modules("importers")
