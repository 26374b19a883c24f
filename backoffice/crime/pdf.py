"""The accepted report as a PDF (reportlab), printed with its digital seal.

Rendered once, at acceptance; the bytes are stored and signed (service.py),
so what residents download is always the document that was signed.
"""
from __future__ import annotations

import datetime as dt
import io
from typing import Any, Dict, List
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from common import crime_report
from common.settings import Settings


def _styles() -> Dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("title", parent=base["Title"], fontSize=16, spaceAfter=2),
        "subtitle": ParagraphStyle("subtitle", parent=base["Normal"], fontSize=10, alignment=1, spaceAfter=8),
        "h": ParagraphStyle("h", parent=base["Heading3"], fontSize=11, spaceBefore=8, spaceAfter=4),
        "p": ParagraphStyle("p", parent=base["Normal"], fontSize=9.5, leading=12),
        "small": ParagraphStyle("small", parent=base["Normal"], fontSize=7.5, leading=9.5),
        "mono": ParagraphStyle("mono", parent=base["Normal"], fontName="Courier", fontSize=7, leading=9),
    }


def _p(value: Any, style: ParagraphStyle) -> Paragraph:
    shown = escape(str(value if value is not None else "—")).replace("\n", "<br/>")
    return Paragraph(shown, style)


def _table(rows: List[List[Any]], styles: Dict[str, ParagraphStyle]) -> Table:
    data = [[_p(label, styles["p"]), _p(value, styles["p"])] for label, value in rows]
    table = Table(data, colWidths=[52 * mm, 120 * mm])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#F0F0F0")),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#BBBBBB")),
            ]
        )
    )
    return table


def _datetime_text(iso: str | None) -> str:
    if not iso:
        return "—"
    moment = dt.datetime.fromisoformat(iso)
    return f"{crime_report.date_text(moment.date(), 'es')}, {moment:%H:%M} ({moment:%z})"


def render(document: Dict[str, Any], data_sha256: str, data_signature: str, key_id: str, settings: Settings) -> bytes:
    """The PDF bytes of a report document (service.report_document)."""
    t = crime_report.texts()["document"]

    def txt(key: str, **params: Any) -> str:
        return crime_report.text(t[key], "es", **params)

    styles = _styles()
    crime_type = document["crime_type"]
    story: List[Any] = [
        Paragraph(escape(txt("title")), styles["title"]),
        Paragraph(escape(f"{txt('authority')} — {txt('subtitle')}"), styles["subtitle"]),
        _table(
            [
                [txt("folio"), document["folio"]],
                [crime_report.label("crime_type", "es"), document["crime_type_name"]],
                [txt("status"), txt("status_accepted")],
                [txt("filed_at"), _datetime_text(document["filed_datetime"])],
                [txt("accepted_at"), _datetime_text(document["accepted_datetime"])],
            ],
            styles,
        ),
        Paragraph(escape(txt("declarant")), styles["h"]),
    ]
    declarant = document["declarant"]
    story.append(
        _table(
            [
                [txt("name"), declarant.get("name")],
                [txt("curp"), declarant.get("curp")],
                [txt("email"), declarant.get("email")],
                [txt("phone"), declarant.get("phone")],
            ],
            styles,
        )
    )
    story.append(Paragraph(escape(txt("facts")), styles["h"]))
    lines = crime_report.summary_lines(crime_type, document["facts"], document["unknown_facts"], "es")
    story.append(_table([[label, shown] for field, label, shown in lines if field not in ("crime_type", "description")], styles))
    story.append(Paragraph(escape(txt("account")), styles["h"]))
    story.append(_p(document["description"], styles["p"]))
    if document["additional_information"]:
        story.append(Paragraph(escape(txt("additional")), styles["h"]))
        rows = []
        for item in document["additional_information"]:
            if item.get("question"):
                rows.append([txt("question"), item["question"]])
            rows.append([txt("answer"), item.get("answer") or "—"])
        story.append(_table(rows, styles))
    story.append(Paragraph(escape(txt("declaration")), styles["h"]))
    story.append(_p(document["declaration"]["text"], styles["p"]))
    story.append(_p(f"{txt('declared_at')}: {_datetime_text(document['declaration']['accepted_datetime'])}", styles["small"]))
    base = settings.backoffice_public_url.rstrip("/")
    story += [
        Spacer(1, 6 * mm),
        Paragraph(escape(txt("seal")), styles["h"]),
        _p(txt("seal_text", verify_url=f"{base}/crime/verify", key_url=f"{base}/crime/signing-key"), styles["small"]),
        _p(f"{txt('key_id')}: Ed25519 {key_id}", styles["mono"]),
        _p(f"{txt('data_sha256')}: {data_sha256}", styles["mono"]),
        _p(f"{txt('signature')}: {data_signature}", styles["mono"]),
    ]

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"{txt('title')} {document['folio']}",
        author=txt("authority"),
    )
    doc.build(story)
    return buffer.getvalue()
