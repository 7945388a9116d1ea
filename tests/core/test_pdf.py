"""PDFs carry Chinese text in an embedded CJK font (text extracted back with pypdf)."""

import io

import pytest
from django.test import override_settings
from pypdf import PdfReader

from dajiuzhu.core import pdf
from tests.conftest import require

NOTICE = """{% extends "web/pdf_base.html" %}
{% block body %}<h1>不予批准通知书</h1>
<p>{{ name }}:您有权自收到本通知之日起六十日内申请行政复议。</p>
<table><tr><th>项目</th><th class="num">金额(元)</th></tr>
<tr><td>最低生活保障</td><td class="num">1,070.00</td></tr></table>
{% endblock %}"""

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "OPTIONS": {
            "loaders": [
                ("django.template.loaders.locmem.Loader", {"test/notice.html": NOTICE}),
                "django.template.loaders.app_directories.Loader",
            ]
        },
    }
]


def _weasyprint_available() -> bool:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


@override_settings(TEMPLATES=TEMPLATES)
def test_a_notice_renders_with_its_chinese_text_and_an_embedded_font():
    require(_weasyprint_available(), "WeasyPrint or its system libraries (pango) are missing")
    data = pdf.render_pdf("test/notice.html", {"name": "张*"})
    reader = PdfReader(io.BytesIO(data))
    text = reader.pages[0].extract_text()
    assert "不予批准通知书" in text
    assert "张*:您有权自收到本通知之日起六十日内申请行政复议。" in text
    assert "最低生活保障" in text and "1,070.00" in text
    fonts = {
        str(font["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert any("Noto-Sans-CJK-SC" in name for name in fonts), fonts
    # Embedded (a font file in the descriptor), not merely referenced by name.
    descendant = next(
        f.get_object()["/DescendantFonts"][0].get_object()
        for f in reader.pages[0]["/Resources"]["/Font"].values()
        if "Noto-Sans-CJK-SC" in str(f.get_object()["/BaseFont"])
    )
    descriptor = descendant["/FontDescriptor"].get_object()
    assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


@override_settings(TEMPLATES=TEMPLATES)
def test_without_weasyprint_the_user_gets_a_clear_message(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_weasyprint(name, *args, **kwargs):
        if name == "weasyprint":
            raise OSError("cannot load library 'pango-1.0-0'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_weasyprint)
    with pytest.raises(pdf.PdfUnavailable) as caught:
        pdf.render_pdf("test/notice.html", {"name": "张*"})
    assert caught.value.code == "pdf.unavailable"
    assert "暂时无法生成 PDF 文件" in caught.value.message
