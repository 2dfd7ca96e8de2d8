"""The staff-user fixture of the console tests, for the log-in security tests."""

from tests.staff.conftest import make_staff  # noqa: F401 - re-exported fixture
