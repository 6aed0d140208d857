from django.urls import include, path

from guanxi.customers import duplicate_views, export_views, views

app_name = "customers"

customer_urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("bulk/", views.customer_bulk, name="bulk"),
    path("export/", export_views.customer_export, name="export"),
    path("filters/", views.saved_filter_save, name="filter_save"),
    path("filters/<int:filter_id>/delete/", views.saved_filter_delete, name="filter_delete"),
    path("duplicates/", duplicate_views.duplicate_list, name="duplicates"),
    path("<int:customer_id>/", views.customer_detail, name="detail"),
    path("<int:customer_id>/edit/", views.customer_edit, name="edit"),
    path("<int:customer_id>/archive/", views.customer_archive, name="archive"),
    path("<int:customer_id>/panels/", views.customer_panels, name="panels"),
    path("<int:customer_id>/contacts/new/", views.contact_create, name="contact_create"),
    path("<int:customer_id>/merge/<int:other_id>/", duplicate_views.customer_merge, name="merge"),
]

contact_urlpatterns = [
    path("", views.contact_list, name="contacts"),
    path("<int:contact_id>/edit/", views.contact_edit, name="contact_edit"),
    path("<int:contact_id>/primary/", views.contact_primary, name="contact_primary"),
    path("<int:contact_id>/vcard/", views.contact_vcard_download, name="contact_vcard"),
]

urlpatterns = [
    path("customers/", include(customer_urlpatterns)),
    path("contacts/", include(contact_urlpatterns)),
]
