from django.urls import path

from guanxi.sales import deals_views, leads_views, telesales_views

app_name = "sales"

urlpatterns = [
    path("", deals_views.sales_home, name="home"),
    # --- pipeline: leads, deals, kanban, forecast, call lists ---
    path("leads/", leads_views.lead_list, name="lead_list"),
    path("leads/new/", leads_views.lead_create, name="lead_create"),
    path("leads/<int:lead_id>/", leads_views.lead_detail, name="lead_detail"),
    path("leads/<int:lead_id>/edit/", leads_views.lead_edit, name="lead_edit"),
    path("leads/<int:lead_id>/status/", leads_views.lead_status, name="lead_status"),
    path("leads/<int:lead_id>/assign/", leads_views.lead_assign, name="lead_assign"),
    path("leads/<int:lead_id>/convert/", leads_views.lead_convert, name="lead_convert"),
    path("deals/", deals_views.deal_list, name="deal_list"),
    path("deals/new/", deals_views.deal_create, name="deal_create"),
    path("deals/<int:deal_id>/", deals_views.deal_detail, name="deal_detail"),
    path("deals/<int:deal_id>/edit/", deals_views.deal_edit, name="deal_edit"),
    path("deals/<int:deal_id>/close/", deals_views.deal_close, name="deal_close"),
    path("deals/<int:deal_id>/competitors/", deals_views.deal_competitor, name="deal_competitor"),
    path("deals/<int:deal_id>/team/", deals_views.deal_team, name="deal_team"),
    path("kanban/", deals_views.kanban, name="kanban"),
    path("kanban/column/", deals_views.kanban_column, name="kanban_column"),
    path("kanban/<int:deal_id>/move/", deals_views.kanban_move, name="kanban_move"),
    path("forecast/", deals_views.forecast, name="forecast"),
    path("call-lists/", telesales_views.calllist_list, name="calllist_list"),
    path("call-lists/new/", telesales_views.calllist_create, name="calllist_create"),
    path("call-lists/<int:call_list_id>/", telesales_views.calllist_detail, name="calllist_detail"),
    path(
        "call-lists/<int:call_list_id>/entries/<int:entry_id>/outcome/",
        telesales_views.calllist_outcome,
        name="calllist_outcome",
    ),
    # --- commerce: products, price lists, quotes, contracts, receivables ---
]
