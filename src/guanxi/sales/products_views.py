"""Product catalogue and price list pages."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from guanxi.core.errors import Conflict, StaleVersion
from guanxi.core.permissions import require
from guanxi.customers.selectors import category_list
from guanxi.sales import products
from guanxi.sales.models import Product
from guanxi.sales.quotes_views import decimal_or_none, report_errors


@login_required
def product_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "sales.view_product")
    kind = request.GET.get("kind") if request.GET.get("kind") in Product.Kind.values else None
    return render(
        request,
        "sales/product_list.html",
        {
            "products": products.product_list(kind=kind, q=request.GET.get("q", "")),
            "price_lists": products.price_list_list(),
            "kinds": Product.Kind.choices,
            "kind": kind,
            "q": request.GET.get("q", ""),
        },
    )


@login_required
def product_form(request: HttpRequest, product_id: int | None = None) -> HttpResponse:
    product = products.product_get(product_id=product_id) if product_id else None
    require(request.user, "sales.change_product" if product else "sales.add_product")
    if request.method == "POST":
        data = {
            "code": request.POST.get("code", "").strip(),
            "name": request.POST.get("name", "").strip(),
            "kind": request.POST.get("kind", "product"),
            "unit": request.POST.get("unit", "").strip(),
            "tax_rate": decimal_or_none(request.POST.get("tax_rate")),
            "description": request.POST.get("description", ""),
            "active": request.POST.get("active") == "on",
        }
        try:
            if product:
                products.product_update(
                    actor=request.user, product_id=product.pk, version=int(request.POST.get("version", 0)), data=data
                )
            else:
                products.product_create(actor=request.user, data=data)
            messages.success(request, _("Product saved."))
            return redirect("sales:product_list")
        except (ValidationError, Conflict, StaleVersion) as exc:
            report_errors(request, exc)
    return render(
        request,
        "sales/product_form.html",
        {"product": product, "kinds": Product.Kind.choices, "post": request.POST if request.method == "POST" else None},
    )


@login_required
def pricelist_detail(request: HttpRequest, price_list_id: int) -> HttpResponse:
    require(request.user, "sales.view_pricelist")
    return render(
        request, "sales/pricelist_detail.html", {"price_list": products.price_list_get(price_list_id=price_list_id)}
    )


@login_required
def pricelist_form(request: HttpRequest, price_list_id: int | None = None) -> HttpResponse:
    price_list = products.price_list_get(price_list_id=price_list_id) if price_list_id else None
    require(request.user, "sales.change_pricelist" if price_list else "sales.add_pricelist")
    if request.method == "POST":
        category = request.POST.get("category_id", "")
        items = [
            {"product_id": int(pid), "unit_price": decimal_or_none(price)}
            for pid, price in zip(request.POST.getlist("product_id"), request.POST.getlist("unit_price"), strict=False)
            if pid.isdigit() and price.strip()
        ]
        data = {
            "name": request.POST.get("name", "").strip(),
            "category_id": int(category) if category.isdigit() else None,
            "valid_from": request.POST.get("valid_from") or None,
            "valid_to": request.POST.get("valid_to") or None,
            "active": request.POST.get("active") == "on",
            "note": request.POST.get("note", ""),
            "items": items,
        }
        try:
            if price_list:
                saved = products.price_list_update(
                    actor=request.user,
                    price_list_id=price_list.pk,
                    version=int(request.POST.get("version", 0)),
                    data=data,
                )
            else:
                saved = products.price_list_create(actor=request.user, data=data)
            messages.success(request, _("Price list saved."))
            return redirect("sales:pricelist_detail", saved.pk)
        except (ValidationError, Conflict, StaleVersion) as exc:
            report_errors(request, exc)
    prices = {item.product_id: item.unit_price for item in price_list.items.all()} if price_list else {}
    return render(
        request,
        "sales/pricelist_form.html",
        {
            "price_list": price_list,
            "categories": category_list().order_by("path"),
            "rows": [(p, prices.get(p.pk)) for p in products.product_list(active=True)],
            "post": request.POST if request.method == "POST" else None,
        },
    )
