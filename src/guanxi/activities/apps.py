from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "guanxi.activities"
    label = "activities"
    verbose_name = _("Activities and calendar")

    def ready(self) -> None:
        from guanxi.activities import panels, search, selectors, services, timeline  # noqa: F401  (panels/search register)
        from guanxi.core.audit_access import register
        from guanxi.customers.merge import register_merge_handler

        timeline.register_activities()
        register("activities.activity", selectors.activity_visible)
        register_merge_handler(services.activities_move_to_survivor)
