"""Documents the folder tests upload, made by the tests themselves."""

from __future__ import annotations

from fpdf import FPDF


def pdf_of(pages: list[str]) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())
