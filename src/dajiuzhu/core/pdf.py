"""PDF documents (notices, reports, 通报) from Django templates, with Chinese text in an
embedded CJK font.

WeasyPrint lays the HTML out and embeds the subset of the font the text uses; the font is
Noto Sans CJK SC from the system (Debian's ``fonts-noto-cjk``; no font is committed). Templates
extend ``web/pdf_base.html``, which sets the page, the font stack and the print styles.
WeasyPrint is imported when a PDF is made, so pages and commands that make none do not pay
for it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.template.loader import render_to_string

from dajiuzhu.core.errors import ServiceError

log = logging.getLogger("dajiuzhu.pdf")

FONT_FAMILY = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", sans-serif'


class PdfUnavailable(ServiceError):
    def __init__(self) -> None:
        super().__init__(
            "pdf.unavailable",
            "暂时无法生成 PDF 文件(服务器缺少排版组件或中文字体),请联系系统管理员;"
            "网页版内容可直接打印",
        )


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    """The template rendered to PDF bytes. Raises :class:`PdfUnavailable` (a user-facing
    error with a Chinese message) when WeasyPrint or its system libraries are missing."""
    html = render_to_string(template, {**context, "pdf_font_family": FONT_FAMILY})
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: pango/cairo libraries not installed
        log.error("pdf.unavailable", extra={"error": type(exc).__name__})
        raise PdfUnavailable from None
    return HTML(string=html).write_pdf()
