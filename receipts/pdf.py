"""The receipt as a PDF with real Japanese text (ReportLab and its built-in CID fonts).

Rendered from the issued content (``receipts.document.as_json``, the same data the JSON endpoint
answers), so the PDF and the JSON cannot disagree. The fonts are Adobe-Japan1 CID fonts that every
PDF reader carries (平成角ゴシック, 平成明朝): nothing is embedded, the file stays a few kilobytes,
and the text is text — a search, a copy or ``pdftotext`` reads it back.
"""

from __future__ import annotations

import io
from datetime import datetime

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from shop.tax import REDUCED_RATE

GOTHIC = "HeiseiKakuGo-W5"
MINCHO = "HeiseiMin-W3"
for _font in (GOTHIC, MINCHO):
    pdfmetrics.registerFont(UnicodeCIDFont(_font))

# The marks the invoice rule asks for: reduced-rate lines are flagged and the flag explained.
REDUCED_MARK = "※"
REDUCED_LEGEND = "※ 軽減税率対象"
REISSUE_MARK = "再発行"

PAGE_W, PAGE_H = A4
LEFT, RIGHT = 20 * mm, PAGE_W - 20 * mm
BOTTOM = 25 * mm
ROW = 6.5 * mm


def yen(amount: int) -> str:
    return f"{amount:,}円"


def _date(iso: str | None) -> str:
    if not iso:
        return "—"
    d = datetime.fromisoformat(iso)
    return f"{d.year}年{d.month}月{d.day}日"


def _fit(text: str, font: str, size: float, width: float) -> str:
    """``text`` cut with an ellipsis so that it fits ``width`` points."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


class _Writer:
    """A canvas and a cursor that starts a new page (repeating the receipt number) when full."""

    def __init__(self, content: dict) -> None:
        self.buffer = io.BytesIO()
        self.c = canvas.Canvas(self.buffer, pagesize=A4, pageCompression=1)
        self.c.setTitle(f"領収書 {content['receipt_number']}")
        self.c.setAuthor(content["issuer"]["name"])
        self.content = content
        self.y = PAGE_H - 20 * mm

    def text(self, x: float, text: str, *, font: str = MINCHO, size: float = 10, align: str = "left") -> None:
        self.c.setFont(font, size)
        draw = {"left": self.c.drawString, "right": self.c.drawRightString, "center": self.c.drawCentredString}
        draw[align](x, self.y, text)

    def need(self, height: float) -> None:
        if self.y - height < BOTTOM:
            self.c.showPage()
            self.y = PAGE_H - 20 * mm
            self.text(RIGHT, f"領収書番号 {self.content['receipt_number']}（続き）", size=9, align="right")
            self.y -= ROW * 1.5

    def rule(self, width: float = 0.5) -> None:
        self.c.setLineWidth(width)
        self.c.line(LEFT, self.y - 2, RIGHT, self.y - 2)

    def finish(self) -> bytes:
        self.c.showPage()
        self.c.save()
        return self.buffer.getvalue()


# Columns of the line table: 商品名 | 税率 | 単価 | 数量 | 金額 (right edges for the numbers).
_COL_RATE, _COL_PRICE, _COL_QTY, _COL_AMOUNT = RIGHT - 95 * mm, RIGHT - 50 * mm, RIGHT - 30 * mm, RIGHT
_TITLE_WIDTH = _COL_RATE - LEFT - 4 * mm


def render(content: dict) -> bytes:
    """The PDF of one issued receipt."""
    w = _Writer(content)
    issuer = content["issuer"]

    w.text(PAGE_W / 2, "領収書", font=GOTHIC, size=24, align="center")
    if content["reissue"]:
        w.c.setStrokeColorRGB(0.75, 0, 0)
        w.c.setFillColorRGB(0.75, 0, 0)
        w.c.rect(RIGHT - 28 * mm, w.y - 3 * mm, 28 * mm, 11 * mm)
        w.text(RIGHT - 14 * mm, REISSUE_MARK, font=GOTHIC, size=14, align="center")
        w.c.setStrokeColorRGB(0, 0, 0)
        w.c.setFillColorRGB(0, 0, 0)
    w.y -= ROW
    w.text(PAGE_W / 2, "（適格請求書）", size=10, align="center")
    w.y -= ROW * 1.5
    for label, value in (("領収書番号", content["receipt_number"]), ("発行日", _date(content["issued_at"])),
                         ("注文番号", content["order_number"])):
        w.text(RIGHT, f"{label}　{value}", size=10, align="right")
        w.y -= ROW * 0.8
    w.y -= ROW * 0.5

    w.text(LEFT, content["addressee"], font=GOTHIC, size=16)
    w.rule(0.8)
    w.y -= ROW * 2
    w.text(LEFT, "金額", size=11)
    w.text(LEFT + 25 * mm, f"¥{content['total']:,}－", font=GOTHIC, size=22)
    w.y -= ROW * 1.3
    w.text(LEFT, f"但し書き　{content['purpose']}", size=11)
    w.y -= ROW
    w.text(LEFT, "上記正に領収いたしました。", size=10)
    w.y -= ROW * 0.8
    w.text(LEFT, f"お支払い方法　{content['payment_method_label']}　　入金日　{_date(content['paid_at'])}", size=10)
    w.y -= ROW * 1.8

    w.text(LEFT, "明細", font=GOTHIC, size=12)
    w.y -= ROW
    for x, label, align in ((LEFT, "商品名", "left"), (_COL_RATE, "税率", "left"), (_COL_PRICE, "単価", "right"),
                            (_COL_QTY, "数量", "right"), (_COL_AMOUNT, "金額", "right")):
        w.text(x, label, font=GOTHIC, size=9, align=align)
    w.rule()
    w.y -= ROW
    for line in content["lines"]:
        w.need(ROW)
        reduced = line["tax_rate"] == REDUCED_RATE
        title = f"{REDUCED_MARK} {line['title']}" if reduced else line["title"]
        w.text(LEFT, _fit(title, MINCHO, 9.5, _TITLE_WIDTH), size=9.5)
        w.text(_COL_RATE, f"{line['tax_rate']}%{REDUCED_MARK if reduced else ''}", size=9.5)
        w.text(_COL_PRICE, yen(line["unit_price"]), size=9.5, align="right")
        w.text(_COL_QTY, str(line["quantity"]), size=9.5, align="right")
        w.text(_COL_AMOUNT, yen(line["unit_price"] * line["quantity"]), size=9.5, align="right")
        w.y -= ROW
    w.rule()
    w.y -= ROW
    w.need(ROW * (len(content["totals"]) + 3))
    for total in content["totals"]:
        w.text(_COL_PRICE, f"{total['tax_rate']}%対象", size=10, align="right")
        w.text(_COL_AMOUNT, f"{yen(total['amount_incl_tax'])}（内消費税 {yen(total['tax'])}）", size=10, align="right")
        w.y -= ROW
    w.text(_COL_PRICE, "合計（税込）", font=GOTHIC, size=11, align="right")
    w.text(_COL_AMOUNT, yen(content["total"]), font=GOTHIC, size=11, align="right")
    w.y -= ROW
    if any(line["tax_rate"] == REDUCED_RATE for line in content["lines"]):
        w.text(LEFT, REDUCED_LEGEND, size=9)
        w.y -= ROW
    w.text(LEFT, "消費税は税率ごとに合計した金額から計算し、1円未満を切り捨てています。", size=8)
    w.y -= ROW * 1.5

    if content["refunds"]:
        w.need(ROW * 4)
        w.text(LEFT, "返金（適格返還請求書）", font=GOTHIC, size=12)
        w.y -= ROW
        for x, label, align in ((LEFT, "返金日", "left"), (_COL_RATE, "税率", "left"),
                                (_COL_QTY, "返金額", "right"), (_COL_AMOUNT, "内消費税", "right")):
            w.text(x, label, font=GOTHIC, size=9, align=align)
        w.rule()
        w.y -= ROW
        for refund in content["refunds"]:
            w.need(ROW)
            w.text(LEFT, _date(refund["refunded_at"]), size=9.5)
            w.text(_COL_RATE, f"{refund['tax_rate']}%対象", size=9.5)
            w.text(_COL_QTY, yen(refund["amount"]), size=9.5, align="right")
            w.text(_COL_AMOUNT, yen(refund["tax"]), size=9.5, align="right")
            w.y -= ROW
        w.rule()
        w.y -= ROW * 1.5

    w.need(ROW * 3)
    w.text(RIGHT, f"発行者　{issuer['name']}", font=GOTHIC, size=11, align="right")
    w.y -= ROW
    w.text(RIGHT, f"登録番号　{issuer['registration_number']}", size=10, align="right")
    return w.finish()
