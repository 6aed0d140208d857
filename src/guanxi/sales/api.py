"""The sales app's router, mounted by guanxi.api: it gathers the routers of the app's parts."""

from ninja import Router

from guanxi.sales.api_commerce import router as commerce_router
from guanxi.sales.api_pipeline import router as pipeline_router

router = Router(tags=["sales"])
router.add_router("", pipeline_router)
router.add_router("", commerce_router)  # products, price lists, quotes, contracts, receivables
