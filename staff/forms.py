"""Console forms: the input of each action, validated before any service runs."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class StaffAuthenticationForm(AuthenticationForm):
    """Django auth, staff users only (SPEC §7)."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not user.is_staff:
            raise forms.ValidationError(_("スタッフ用のアカウントでログインしてください。"), code="not_staff")


class SearchForm(forms.Form):
    q = forms.CharField(label=_("検索"), max_length=200, required=False)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("メモ（タイムラインに残ります）"), max_length=500, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


class CancelForm(NoteForm):
    pass


class RefundForm(forms.Form):
    amount = forms.IntegerField(label=_("返金額（円）"), min_value=1)
    reference = forms.CharField(label=_("返品受付番号（任意・二重登録を防ぎます）"), max_length=64, required=False)


class RetryRefundForm(NoteForm):
    to_gift_card = forms.BooleanField(label=_("ギフト券残高への返金に切り替える（カードが使えない場合など）"),
                                      required=False)


class ReportCheckForm(forms.Form):
    code = forms.CharField(widget=forms.HiddenInput, max_length=40)


class ReportUncheckForm(ReportCheckForm):
    """Undoing a tick: which item (from the link) and why (kept on the report's timeline)."""

    note = forms.CharField(label=_("取り消しの理由"), widget=forms.Textarea(attrs={"rows": 3}), max_length=500)


class ReceiptForm(forms.Form):
    """The addressee (宛名) and 但し書き of a receipt; the service checks them again (40 characters)."""

    addressee = forms.CharField(label=_("宛名（空欄ならお客様のお名前＋様）"), max_length=40, required=False)
    purpose = forms.CharField(label=_("但し書き（空欄なら「お品代として」）"), max_length=40, required=False)


class RequiredNoteForm(forms.Form):
    note = forms.CharField(label=_("理由・メモ"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class CustomerClosureForm(forms.Form):
    confirm_forfeit = forms.BooleanField(
        label=_("ギフト券残高とポイントが失効し、新しいアカウントへ移せないことにお客様が同意しました"), required=False)


class PointsAdjustmentForm(forms.Form):
    points = forms.IntegerField(label=_("ポイント（減らす場合はマイナス）"), min_value=-10_000_000, max_value=10_000_000)
    note = forms.CharField(label=_("理由"), max_length=200)

    def clean_points(self):
        value = self.cleaned_data["points"]
        if value == 0:
            raise forms.ValidationError(_("0以外のポイントを入力してください。"), code="zero")
        return value


class SellerClosureCheckForm(forms.Form):
    code = forms.CharField(widget=forms.HiddenInput, max_length=40)


class InternalNoteForm(forms.Form):
    body = forms.CharField(label=_("社内メモ（お客様には見えません）"), max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 3}))


class CallbackOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("結果"), choices=[])
    note = forms.CharField(label=_("メモ（履歴に残ります）"), max_length=1000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        from shop.models import CallbackRequest

        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = [(value, _(label)) for value, label in CallbackRequest.Outcome.choices]
