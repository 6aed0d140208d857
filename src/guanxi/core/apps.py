from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "guanxi.core"
    label = "core"
    verbose_name = _("Organisation and access")

    def ready(self) -> None:
        from guanxi.core import principals, tree
        from guanxi.core.roles import sync_role_groups

        principals.connect_signals()
        tree.connect_signals()

        # Permissions are created app by app after migrate, so role groups are (re)built after each, idempotently.
        post_migrate.connect(sync_role_groups, dispatch_uid="guanxi.core.sync_role_groups")
