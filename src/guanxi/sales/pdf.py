"""Printable quotes (报价单) as PDF: a Django template rendered to HTML (autoescaped: names are text, never markup),
laid out by WeasyPrint with a CJK font from the system (Debian fonts-wqy-microhei or fonts-noto-cjk), which
WeasyPrint embeds as a subset, so the PDF reads the same on any machine."""

from django.template.loader import render_to_string
from django.utils import timezone, translation

from guanxi.sales.contracts import company_name
from guanxi.sales.models import Quote

# The first installed family wins; fontconfig resolves the names.
CJK_FONTS = '"WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", sans-serif'


def quote_pdf(quote: Quote, *, language: str = "zh-hans") -> bytes:
    """The quote as a PDF document. `quote` comes from quotes.quote_get (scoped, lines prefetched)."""
    from weasyprint import HTML  # imported here: loading Pango costs time that only PDF requests should pay

    with translation.override(language):
        html = render_to_string(
            "sales/quote_pdf.html",
            {
                "quote": quote,
                "lines": list(quote.lines.all()),
                "company": company_name(),
                "printed_at": timezone.localtime(),
                "fonts": CJK_FONTS,
            },
        )
    return HTML(string=html).write_pdf()
