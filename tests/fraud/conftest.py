import pytest


@pytest.fixture(autouse=True)
def risk_rules(request):
    """The rule table is seeded by a data migration; a transactional test's flush empties it."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    request.getfixturevalue("transactional_db" if marker.kwargs.get("transaction") else "db")
    from fraud.services.screening import install_default_rules

    install_default_rules()
