"""The one NinjaAPI: every app's router under /api/v1/."""

from ninja import NinjaAPI

from guanxi.activities.api import router as activities_router
from guanxi.activities.calendar_api import router as calendar_router
from guanxi.activities.notifications_api import router as notifications_router
from guanxi.activities.reports_api import router as work_reports_router
from guanxi.activities.visits_api import router as visit_plans_router
from guanxi.core.api import router as core_router
from guanxi.core.api_errors import install_error_handlers
from guanxi.core.auth import api_auth
from guanxi.core.openapi import install_unique_schema_names
from guanxi.core.renderers import FastJSONRenderer
from guanxi.customers.api import router as customers_router
from guanxi.customers.api_duplicates import router as duplicates_router
from guanxi.customers.export_api import router as export_router
from guanxi.imports.api import router as imports_router
from guanxi.sales.api import router as sales_router
from guanxi.service.analysis_api import router as service_analysis_router
from guanxi.service.api import router as service_router

api = NinjaAPI(
    renderer=FastJSONRenderer(),
    title="Guanxi API",
    version="1",
    description="Guanxi CRM. Authenticate with POST /auth/token and send `Authorization: Bearer <token>`.",
    auth=api_auth,
    urls_namespace="api-v1",
)
install_error_handlers(api)
install_unique_schema_names()  # one component name per model in openapi.json (ninja merges them by class name)
api.add_router("/", core_router)
api.add_router("/", duplicates_router)  # before customers: /customers/duplicates is not /customers/{customer_id}
api.add_router("/", export_router)  # before customers, like duplicates
api.add_router("/", customers_router)
api.add_router("/", imports_router)
api.add_router("/", calendar_router)  # before activities: /activities/{id}/ics is not /activities/{id}
api.add_router("/", activities_router)
api.add_router("/", notifications_router)
api.add_router("/", visit_plans_router)
api.add_router("/", work_reports_router)
api.add_router("/", sales_router)
api.add_router("/", service_analysis_router)  # before service: /tickets/analysis is not /tickets/{ticket_id}
api.add_router("/", service_router)
