"""CSV export of a console list under the filters it is shown with (issue 17). UTF-8 with a
BOM so that Excel opens the Japanese columns as text; streamed, so a long list does not sit in
memory; the export itself goes into the activity log."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backoffice.timeutil import local, now
from staff import services as staff_services

EXPORT_MAX_ROWS = 100_000
Column = tuple[str, Callable[[object], object]]


def wants_csv(request) -> bool:
    return request.GET.get("format") == "csv"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return local(value).strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _lines(columns: list[Column], rows: Iterable) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([str(label) for label, _get in columns])
    for row in rows:
        yield writer.writerow([_cell(get(row)) for _label, get in columns])


def export(request, name: str, queryset: QuerySet, columns: list[Column]) -> StreamingHttpResponse:
    staff_services.record_activity(user=request.user, action="export_csv", obj=None,
                                   label=_("一覧のCSV（%(name)s）") % {"name": name},
                                   url=request.get_full_path(), summary=request.GET.urlencode()[:1000])
    rows = queryset[:EXPORT_MAX_ROWS].iterator(chunk_size=2000)
    response = StreamingHttpResponse(_lines(columns, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{local(now()):%Y%m%d-%H%M}.csv"'
    return response


ORDER_COLUMNS: list[Column] = [
    (gettext_lazy("注文番号"), lambda o: o.number), (gettext_lazy("注文日時"), lambda o: o.placed_at),
    (gettext_lazy("状態"), lambda o: _(o.get_status_display())), (gettext_lazy("お客様"), lambda o: o.customer.name),
    (gettext_lazy("支払い方法"), lambda o: _(o.get_payment_method_display())), (gettext_lazy("合計"), lambda o: o.total),
]
