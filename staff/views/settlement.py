"""Finance's konbini reconciliation (入金照合, issue 14): per chain and day the preliminary reports
(速報) against the final report (確報), the open cases with one action each, the CSV upload of a
chain's settlement file (the API's importer) and the CSV export of the table."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backoffice import limits
from backoffice.timeutil import local, now
from payments.konbini import cases, reconciliation, settlement
from payments.konbini.chains import CHAIN_CHOICES, CHAINS
from payments.konbini.models import SettlementCase, SettlementReport
from shop import scopes
from staff.views.base import Action, ActionView, StaffView, actor_of


def _filters(request) -> tuple[str | None, date, date]:
    chain = request.GET.get("chain") or None
    if chain not in CHAINS:
        chain = None
    today = local(now()).date()
    try:
        until = date.fromisoformat(request.GET.get("until", "")) if request.GET.get("until") else today
    except ValueError:
        until = today
    return chain, until - timedelta(days=reconciliation.DEFAULT_DAYS - 1), until


class ReconciliationView(StaffView):
    page = "settlement"

    def get(self, request):
        chain, since, until = _filters(request)
        day = None
        if request.GET.get("day"):
            try:
                day = date.fromisoformat(request.GET["day"])
            except ValueError:
                day = None
        rows = reconciliation.days(since=since, until=until, chain=chain)
        return render(request, "staff/settlement.html", {
            "rows": rows, "chains": CHAIN_CHOICES, "chain": chain or "", "day": day, "since": since, "until": until,
            "cases": list(reconciliation.open_cases(chain=chain, day=day)[:200]),
        })


class ReconciliationExportView(StaffView):
    page = "settlement"

    def get(self, request):
        chain, since, until = _filters(request)
        response = HttpResponse(reconciliation.export_csv(reconciliation.days(since=since, until=until, chain=chain)),
                                content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (f'attachment; filename="konbini_settlement_{chain or "all"}_'
                                           f'{since:%Y%m%d}-{until:%Y%m%d}.csv"')
        return response


# --- resolving a case ---------------------------------------------------------------------------------

class ResolveForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("対応内容"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


def _resolve(request, case: SettlementCase, data: dict) -> str:
    cases.resolve(case_id=case.pk, note=data["note"], actor=actor_of(request))
    return _("確認事項#%(case)s を対応済みにしました。") % {"case": case.pk}


def _case_consequences(case: SettlementCase) -> list[str]:
    lines = [_("%(kind)s：%(chain)s %(day)s お支払い番号 %(number)s レシート %(receipt)s、%(amount)s円")
             % {"kind": case.get_kind_display(), "chain": case.get_chain_display(), "day": case.day.isoformat(),
                "number": case.payment_number or "—", "receipt": case.receipt_number or "—",
                "amount": f"{case.amount:,}"}]
    if case.expected_amount is not None and case.expected_amount != case.amount:
        lines.append(_("請求額は%(expected)s円です（差額 %(diff)s円）。")
                     % {"expected": f"{case.expected_amount:,}", "diff": f"{case.amount - case.expected_amount:,}"})
    if case.refund_id:
        lines.append(_("返金#%(refund)s（%(method)s）は受付済みです。")
                     % {"refund": case.refund_id, "method": case.refund.get_method_display()})
    lines.append(_("入力した対応内容を記録し、この確認事項を対応済みにします（注文のタイムラインにも残ります）。"))
    return lines


CASE_ACTIONS = {
    "resolve": Action(name="resolve_settlement_case", label=gettext_lazy("対応済みにする"), run=_resolve,
                      form_class=ResolveForm, consequences=_case_consequences,
                      available=lambda c: c.status == SettlementCase.Status.OPEN),
}


class CaseActionView(ActionView):
    page = "settlement"
    actions = CASE_ACTIONS

    def get_object(self, pk: int, **kwargs) -> SettlementCase:
        case = reconciliation.case(pk)
        if case is None:
            raise Http404
        return case

    def object_url(self, case) -> str:
        return f"{reverse('staff:settlement')}?chain={case.chain}&day={case.day.isoformat()}"

    def object_label(self, case) -> str:
        return _("確認事項#%(case)s %(kind)s") % {"case": case.pk, "kind": case.get_kind_display()}


# --- the CSV upload of a chain's settlement file ------------------------------------------------------

class UploadForm(forms.Form):
    chain = forms.ChoiceField(label=gettext_lazy("チェーン"), choices=CHAIN_CHOICES)
    settlement_date = forms.DateField(label=gettext_lazy("対象日"), widget=forms.DateInput(attrs={"type": "date"}))
    file = forms.FileField(label=gettext_lazy("確報ファイル（CSV）"))
    correction = forms.BooleanField(label=gettext_lazy("訂正として取り込む（照合済みの日の確報を置き換える）"),
                                    required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > limits.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("ファイルが大きすぎます（上限 20MB）。"))
        return upload


class SettlementBook:
    """The object of the upload action: the chains' final reports as a whole."""

    pk = "reports"

    def __str__(self) -> str:
        return str(_("コンビニ確報"))


def _upload(request, book: SettlementBook, data: dict) -> str:
    chain = data["chain"]
    lines = settlement.parse_csv(chain, data["file"].read())
    day = settlement.parse_date(data["settlement_date"].isoformat())
    result = settlement.import_report(scope=scopes.konbini_scope_for_staff(chain), settlement_date=day, lines=lines,
                                      correction=data["correction"], source=SettlementReport.Source.CSV,
                                      actor=actor_of(request))
    return _("%(chain)s %(day)s の確報を取り込みました：照合済み %(settled)s件、相違 %(discrepancies)s件。") % {
        "chain": CHAINS[chain].name, "day": day.isoformat(), "settled": result["settled"],
        "discrepancies": len(result["discrepancies"])}


UPLOAD_ACTIONS = {
    "upload": Action(name="upload_settlement", label=gettext_lazy("確報ファイルを取り込む"), run=_upload,
                     form_class=UploadForm, consequences=lambda book: [
                         _("CSVの各行をお支払い番号とレシート番号で速報と照合し、一致したものを入金確定にします。"),
                         _("速報なし・金額相違・キャンセル済み注文への入金・速報取消済みの行は確認事項になります"
                           "（キャンセル済み注文への入金は返金を受け付けます）。"),
                         _("同じファイルをもう一度取り込んでも何も変わりません。照合済みの日は「訂正として取り込む」"
                           "を選んだときだけ置き換えます。"),
                         _("見出し行：payment_number, receipt_number, amount, paid_at（UTF-8またはShift_JIS）")]),
}


class UploadActionView(ActionView):
    page = "settlement"
    actions = UPLOAD_ACTIONS

    def get_object(self, **kwargs) -> SettlementBook:
        return SettlementBook()

    def object_url(self, book) -> str:
        return reverse("staff:settlement")


