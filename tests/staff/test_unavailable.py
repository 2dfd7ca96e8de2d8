"""The staff console when PostgreSQL drops the connection: a plain 503 page that needs no
database (issue 19 item 3), not Django's 500."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.support import terminate_this_connection


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_staff_page_answers_a_friendly_503_when_the_database_drops_the_connection(agent):
    terminate_this_connection()
    try:
        r = agent.get("/staff/")
    finally:
        connection.close()
    assert r.status_code == 503 and r["Retry-After"] == "5"
    assert "一時的にご利用いただけません" in r.content.decode()
