"""The console in English is complete (issue 17): every word the staff templates and the staff
code pass through gettext, every choice label of the models, the checklists and the risk rules
have an English translation, nothing is fuzzy, and the English pages show no Japanese word in
their own chrome (headings, column names, buttons, labels, badges)."""

from __future__ import annotations

import ast
import gettext
import re
import subprocess
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.utils import translation

from fraud import rules
from payments import gateway_errors
from staff import labels
from tests import factories
from tests.staff import scenario

ROOT = Path(settings.BASE_DIR)
PO = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
LITERAL = r'"((?:[^"\\]|\\.)+)"'
PYTHON_CALLS = re.compile(r"\b(?:_|gettext|gettext_lazy|gettext_noop)\(\s*((?:" + r'"(?:[^"\\]|\\.)*"' + r"\s*)+)")
TEMPLATE_TAGS = re.compile(r"\{%\s*(?:translate|trans)\s+" + LITERAL)
BLOCKS = re.compile(r"\{%\s*blocktrans(?:late)?\b([^%]*)%\}(.*?)\{%\s*(?:plural|endblocktrans(?:late)?)\s*%\}", re.S)


def _catalogue() -> dict[str, str]:
    """The catalogue compiled from the .po as it is now (not the committed .mo)."""
    mo = Path("/tmp") / f"staff-catalogue-{PO.stat().st_mtime_ns}.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(mo), str(PO)], check=True, capture_output=True)
    with mo.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog
    return {(key[0] if isinstance(key, tuple) else key): value for key, value in catalog.items() if key}


def _used_msgids() -> dict[str, str]:
    """msgid → where it is used, from the staff code and the staff templates."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "staff").rglob("*.py")):
        for literals in PYTHON_CALLS.findall(path.read_text()):
            found.setdefault("".join(ast.literal_eval(f'"{part}"') for part in re.findall(LITERAL, literals)), str(path))
    for path in sorted((ROOT / "templates" / "staff").glob("*.html")):
        text = path.read_text()
        for literal in TEMPLATE_TAGS.findall(text):
            found.setdefault(literal, str(path))
        for options, block in BLOCKS.findall(text):
            if "trimmed" in options:  # as Django trims it: lines stripped, joined by a space
                block = " ".join(line.strip() for line in block.strip().splitlines() if line.strip())
            msgid = re.sub(r"\{\{\s*(\w+)\s*\}\}", r"%(\1)s", block)
            found.setdefault(msgid, str(path))
    return {msgid: where for msgid, where in found.items() if JAPANESE.search(msgid)}


def test_the_catalogue_compiles_with_nothing_fuzzy_or_untranslated():
    result = subprocess.run(["msgfmt", "--statistics", "-o", "/dev/null", str(PO)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr


def test_every_word_of_the_staff_console_has_an_english_translation():
    catalogue = _catalogue()
    missing = {msgid: where for msgid, where in _used_msgids().items() if not catalogue.get(msgid)}
    assert not missing, f"{len(missing)} untranslated: {list(missing.items())[:10]}"


def test_every_choice_label_checklist_item_and_risk_rule_has_an_english_translation():
    catalogue = _catalogue()
    # The msgids themselves: a page requested in English earlier in the run leaves English active,
    # and the lazy labels would then read as their translations (and drop out as not Japanese).
    with translation.override("ja"):
        words = {str(label) for model in apps.get_models() if model._meta.app_label in
                 ("shop", "payments", "konbini", "fraud", "pickup", "receipts", "staff")
                 for field in model._meta.get_fields() for _value, label in (getattr(field, "choices", None) or [])}
        # The card gateway's errors in words (payments.gateway_errors: the console shows them, issue 17).
        gateway_words = {str(w) for row in gateway_errors.GATEWAY_ERRORS.values() for w in (row.message, row.hint)}
    words |= {label for items in rules.CHECKLISTS.values() for _code, label in items}
    words |= {description for description, _weight in rules.DEFAULT_RISK_RULES.values()}
    words = {w for w in words if JAPANESE.search(w)}
    assert not [w for w in gateway_words if not catalogue.get(w)], gateway_words
    assert words <= set(labels.CATALOGUE_WORDS), sorted(words - set(labels.CATALOGUE_WORDS))[:10]
    assert not [w for w in words if not catalogue.get(w)]


CHROME = re.compile(r"<(th|h2|button|label|option)\b[^>]*>(.*?)</\1>|class=\"(?:badge[^\"]*|label|button[^\"]*)\"[^>]*>([^<]*)<",
                    re.S)


def _chrome_text(html: str) -> list[str]:
    main = html.split("<main>", 1)[-1]
    out = []
    for match in CHROME.finditer(main):
        text = re.sub(r"<[^>]+>", "", match.group(2) or match.group(3) or "").strip()
        if text:
            out.append(text)
    return out


@pytest.mark.django_db
def test_english_pages_show_no_japanese_in_their_own_words(admin_client, django_capture_on_commit_callbacks):
    customer = factories.CustomerFactory(name="Hanako Suzuki")
    order = factories.place(factories.ListingFactory(title="Laptop"), external_id=customer.external_id)
    scenario.callback(customer, "Where is my parcel", order)
    scenario.held_order()
    scenario.failed_card_refund(django_capture_on_commit_callbacks)
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    pages = ["/staff/", "/staff/callbacks/", "/staff/callbacks/?show=closed", "/staff/reports/", "/staff/review/",
             "/staff/refunds/failed/", "/staff/pickups/", "/staff/activity/", "/staff/addresses/?q=1-1",
             "/staff/konbini/due-today/", "/staff/search/?q=Hanako", f"/staff/customers/{customer.pk}/",
             f"/staff/orders/{order.number}/", f"/staff/orders/{order.number}/actions/cancel/", "/staff/nowhere/"]
    offenders = {}
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code in (200, 404), url
        japanese = [text for text in _chrome_text(response.content.decode()) if JAPANESE.search(text)]
        if japanese:
            offenders[url] = japanese[:5]
    assert not offenders, offenders
