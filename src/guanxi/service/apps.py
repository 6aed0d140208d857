from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "guanxi.service"
    label = "service"
    verbose_name = _("Service")

    def ready(self) -> None:
        from guanxi.core.audit_access import register
        from guanxi.service import panels, search, selectors  # noqa: F401  (panels/search register themselves)
        from guanxi.service import timeline as service_timeline

        register("service.ticket", selectors.ticket_visible)
        from guanxi.service import notices, sla

        if notices.sla_hook not in sla.notify_hooks:
            sla.notify_hooks.append(notices.sla_hook)  # SLA warnings, breaches, escalations → notification centre
        service_timeline.register_tickets()
        # Return visits and satisfaction surveys: the 360 panel, and audit history scoped like tickets and customers.
        from guanxi.service import feedback_panels, return_visits, surveys  # noqa: F401

        register("service.returnvisit", return_visits.visit_visible)
        register("service.surveyinvitation", surveys.invitation_visible)
        # The knowledge base: the global search kind "articles", and audit history scoped like the articles.
        from guanxi.service import knowledge_search, knowledge_selectors  # noqa: F401

        register("service.article", knowledge_selectors.article_visible)
