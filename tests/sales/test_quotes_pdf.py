"""The printable quote: a PDF that embeds its CJK font and reads back with the Chinese customer name."""
# ruff: noqa: F811  (the shared fixtures are imported, then named as test arguments)

import io
from decimal import Decimal

from pypdf import PdfReader

from tests.conftest import make_customer
from tests.sales.test_quotes_fixtures import catalogue, make_quote  # noqa: F401


def _fonts(reader: PdfReader) -> list[dict]:
    found = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", []):
                found.append(descendant.get_object()["/FontDescriptor"].get_object())
    return found


def test_the_quote_pdf_is_chinese_text_with_an_embedded_font(users, catalogue, api):
    customer = make_customer(users.am1, name="华北<b>重工</b>钢铁有限公司")
    quote = make_quote(
        users.am1,
        customer,
        [{"product_id": catalogue.tariff.pk, "quantity": Decimal("1000"), "description": "<i>峰谷</i>"}],
        title="2026年供电报价",
    )
    response = api(users.am1).get(f"/quotes/{quote.pk}/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "".join(page.extract_text() for page in reader.pages)
    # The name is printed as text, markup and all (autoescaped, not interpreted).
    assert "华北<b>重工</b>钢铁有限公司" in text
    assert "<i>峰谷</i>" in text
    assert "报价单" in text and quote.number in text and "791.00" in text  # 1000 × 0.7 × 1.13
    fonts = _fonts(reader)
    assert fonts and all("/FontFile2" in f or "/FontFile3" in f or "/FontFile" in f for f in fonts)


def test_the_pdf_is_out_of_reach_of_other_scopes(users, catalogue, api):
    quote = make_quote(users.am1, make_customer(users.am1), [{"product_id": catalogue.widget.pk, "quantity": "1"}])
    assert api(users.am2).get(f"/quotes/{quote.pk}/pdf").status_code == 404
    assert api().get(f"/quotes/{quote.pk}/pdf").status_code == 401
