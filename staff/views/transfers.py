"""Bank-transfer refund batches (Zengin files): finance downloads and marks them transferred."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from backoffice.errors import DomainError
from payments.models import TransferBatch
from payments.services import bank
from staff import permissions, selectors
from staff.views.base import Action, ActionView, StaffView, actor_of, forbidden


class TransferBatchListView(StaffView):
    page = "transfer_batches"

    def get(self, request):
        return render(request, "staff/transfers.html", {
            "page_obj": selectors.paginate(selectors.transfer_batches(), request.GET.get("page")),
        })


@method_decorator(require_POST, name="dispatch")
class TransferBatchDownloadView(StaffView):
    """POST, because the first download moves the batch to ``downloaded`` (payments.services.bank)."""

    page = "transfer_batches"

    def post(self, request, pk: int):
        if not permissions.can_run(request.user, "download_batch"):
            return forbidden(request)
        try:
            filename, content = bank.download(batch_id=pk, actor=actor_of(request))
        except DomainError as exc:
            if exc.status == 404:
                raise Http404 from exc
            messages.error(request, exc.message)
            return redirect("staff:transfers")
        response = HttpResponse(content, content_type="text/plain; charset=Shift_JIS")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


def _mark_transferred(request, batch: TransferBatch, data: dict) -> str:
    bank.mark_transferred(batch_id=batch.pk, actor=actor_of(request))
    return _("%(batch)s を振込完了にしました。") % {"batch": batch}


TRANSFER_ACTIONS = {
    "mark-transferred": Action(
        name="mark_transferred", label=gettext_lazy("振込完了にする"), run=_mark_transferred,
        available=lambda b: b.status == TransferBatch.Status.DOWNLOADED,
        why_not=lambda b: (_("振込完了にする前に、振込ファイルをダウンロードして銀行に送ってください。")
                           if b.status == TransferBatch.Status.CREATED else _("この振込バッチは既に振込完了です。")),
        consequences=lambda b: [
            _("銀行で振込が実行されたことを記録します（%(count)s件・合計 %(total)s円）。")
            % {"count": b.count, "total": f"{b.total:,}"},
            _("この振込ファイルに含まれる返金をすべて完了にし、お客様に返金完了のお知らせを送ります。"),
        ]),
}


class TransferBatchActionView(ActionView):
    page = "transfer_batches"
    actions = TRANSFER_ACTIONS

    def get_object(self, pk: int, **kwargs) -> TransferBatch:
        batch = selectors.transfer_batches().filter(pk=pk).first()
        if batch is None:
            raise Http404
        return batch

    def object_url(self, batch) -> str:
        return reverse("staff:transfers")
