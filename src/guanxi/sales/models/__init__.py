"""sales models; each module owns one part of the domain and is imported here so Django finds it."""

from guanxi.sales.models.board import BoardTotal  # noqa: F401
from guanxi.sales.models.contracts import Contract, ContractAttachment, ContractTemplate  # noqa: F401
from guanxi.sales.models.pipeline import (  # noqa: F401
    CallList,
    CallListEntry,
    Competitor,
    Lead,
    Opportunity,
    Pipeline,
    Stage,
    StageChange,
    TeamMember,
)
from guanxi.sales.models.products import PriceList, PriceListItem, Product  # noqa: F401
from guanxi.sales.models.quotes import DocumentSequence, Quote, QuoteApproval, QuoteLine  # noqa: F401
from guanxi.sales.models.receivables import Instalment, Payment  # noqa: F401
