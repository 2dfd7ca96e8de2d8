"""The services' refusals in the console's language (issue 17): every domain error's message is a
msgid of the English catalogue (``backoffice.errors.DomainError`` renders it, its values filled in,
in the language active where it is shown), so an English console shows the refusal in English;
the partner API keeps answering in Japanese (API.md), whatever the request's language."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from backoffice.errors import Conflict
from shop.models import CancellationReason, OrderStatus
from shop.services import customers, orders
from tests import factories
from tests.factories import ListingFactory, order_payload
from tests.staff import scenario
from tests.staff.submit import open_form
from tests.staff.test_catalogue import JAPANESE, _catalogue

ROOT = Path(settings.BASE_DIR)
SKIP = {".venv", "tests", "bench", "migrations", "node_modules"}
# Helpers that pass their ``message`` (a msgid) on to a domain error: name → the argument.
MESSAGE_HELPERS = {"digits": "message", "_bad": 0}


def _sources() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(), str(path)) for path in sorted(ROOT.rglob("*.py"))
            if not SKIP & set(path.relative_to(ROOT).parts)}


def _domain_errors(trees) -> set[str]:
    """``DomainError`` and every class of the project that derives from it."""
    bases = {}
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases.setdefault(node.name, set()).update(
                    b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases)
    found, grew = {"DomainError"}, True
    while grew:
        new = {name for name, parents in bases.items() if parents & found} - found
        found |= new
        grew = bool(new)
    return found


def _message_argument(call: ast.Call, where: str | int) -> ast.expr | None:
    if isinstance(where, int) and len(call.args) > where:
        return call.args[where]
    name = "message" if isinstance(where, int) else where
    return next((k.value for k in call.keywords if k.arg == name), None)


def _literals(node: ast.expr | None):
    """The string literals a message argument can be (``a if x else b``, ``message or "..."``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _literals(node.body)
        yield from _literals(node.orelse)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from _literals(value)
    elif isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("_", "gettext_lazy", "gettext"):
        yield from _literals(node.args[0])


def _messages() -> tuple[dict[str, str], list[str]]:
    """msgid → where, for every construction of a domain error (and its class defaults); and the
    constructions whose message is built in place (an f-string, a concatenation): untranslatable."""
    trees = _sources()
    errors = _domain_errors(trees)
    found, built = {}, []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            where = None
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
                where = 0 if name in errors else MESSAGE_HELPERS.get(name)
            if where is not None:
                argument = _message_argument(node, where)
                at = f"{path.relative_to(ROOT)}:{node.lineno}"
                if isinstance(argument, ast.JoinedStr | ast.BinOp):
                    built.append(at)
                for literal in _literals(argument):
                    found.setdefault(literal, at)
            if isinstance(node, ast.ClassDef) and node.name in errors:
                for statement in node.body:
                    if isinstance(statement, ast.Assign) and getattr(statement.targets[0], "id", "") == "message":
                        for literal in _literals(statement.value):
                            found.setdefault(literal, f"{path.relative_to(ROOT)}:{statement.lineno}")
    return found, built


def test_every_domain_error_message_is_a_translated_msgid():
    messages, built = _messages()
    assert len(messages) > 150  # the scan finds the services' raise sites
    assert not built, f"a message built in place cannot be translated (use %(name)s and params=): {built}"
    catalogue = _catalogue()
    missing = {msgid: at for msgid, at in messages.items() if JAPANESE.search(msgid) and not catalogue.get(msgid)}
    assert not missing, f"{len(missing)} untranslated: {list(missing.items())[:10]}"
    placeholders = re.compile(r"%\((\w+)\)s")
    bad = {msgid: catalogue[msgid] for msgid in messages if catalogue.get(msgid)
           and sorted(placeholders.findall(msgid)) != sorted(placeholders.findall(catalogue[msgid]))}
    assert not bad, bad


@pytest.mark.django_db
def test_in_english_a_refusal_on_a_confirm_page_is_english(admin_client):
    order = factories.place(factories.ListingFactory(title="Laptop"))
    orders.cancel(order, reason=CancellationReason.CUSTOMER_REQUEST, actor="storefront")
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body = admin_client.get(f"/staff/orders/{order.number}/actions/cancel/").content.decode()
    assert "This order has already been cancelled." in body
    assert "この注文は既にキャンセルされています。" not in body


@pytest.mark.django_db
def test_in_english_a_refusal_with_values_is_english_with_the_values_filled_in(agent):
    """Submitted after another agent took the call-back: the service's refusal names who has it."""
    cb = scenario.callback(factories.CustomerFactory(name="Hanako Suzuki"), "Where is my parcel")
    agent.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    url = f"/staff/callbacks/{cb.pk}/actions/claim/"
    token = open_form(agent, url)
    customers.claim_callback(request_id=cb.pk, staff="staff:tanaka")
    response = agent.post(url, {"form_token": token})
    body = response.content.decode()
    assert response.status_code == 409 and 'data-code="callback_claimed"' in body
    assert "staff:tanaka is handling this request." in body
    assert "対応中です" not in body


@pytest.mark.django_db
def test_the_partner_api_answers_in_japanese_even_when_asked_in_english(storefront):
    short = ListingFactory(stock=1, title="品薄の品")
    body = order_payload(short, quantity=2)
    r = storefront.json("post", "/api/v1/orders", body, HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 409 and r.json()["code"] == "out_of_stock"
    assert r.json()["message"] == "「品薄の品」の在庫が不足しています。"


@pytest.mark.django_db
def test_a_refusals_values_that_are_words_read_in_the_active_language_too():
    """The order's statuses in a refusal are labels (msgids): translated with the sentence; the
    API's body (Japanese) is unchanged."""
    order = factories.place(factories.ListingFactory())
    with pytest.raises(Conflict) as refused:
        orders.transition(order, OrderStatus.DELIVERED, actor="test")
    with translation.override("en"):
        assert str(refused.value.message) == 'The order\'s status cannot be changed from "Processing" to "Delivered".'
    assert refused.value.as_body()["message"] == "注文の状態を「発送準備中」から「配達完了」に変更できません。"
    assert refused.value.code == "invalid_transition"
