"""Submitting a console form as the browser does: open the page that shows it, post it back
with the one-time token that page carried (``backoffice.formtokens``)."""

from __future__ import annotations

import re

from django.test import Client

_TOKEN = re.compile(r'name="form_token" value="([^"]*)"')


def form_token(html: str, *, code: str | None = None) -> str:
    """The token of the page's action form; on a page with one form per checklist item, the
    token of the form for ``code``."""
    found = None
    if code is not None:
        found = re.search(rf'name="code" value="{re.escape(code)}"><input type="hidden" name="form_token" '
                          r'value="([^"]*)"', html)
    found = found or _TOKEN.search(html)
    assert found, "the page shows no action form with a one-time token"
    return found.group(1)


def open_form(client: Client, url: str, *, page: str | None = None, code: str | None = None) -> str:
    """Open the confirm page (or ``page``) and return the token its form carries."""
    response = client.get(page or url)
    assert response.status_code == 200, response.status_code
    return form_token(response.content.decode(), code=code)


def submit(client: Client, url: str, data: dict | None = None, *, page: str | None = None):
    """GET the confirm page (or ``page``), then POST ``data`` to ``url`` with its token. A page
    the user may not open (403, 404), or one that shows no form, is posted without a token, as a
    forged request would be."""
    data = dict(data or {})
    response = client.get(page or url)
    html = response.content.decode() if response.status_code == 200 else ""
    if "form_token" in html:
        data["form_token"] = form_token(html, code=data.get("code"))
    return client.post(url, data)
