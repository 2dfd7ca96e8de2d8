"""Console fixtures: staff users by group, logged-in clients, orders placed through the services."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from staff.permissions import FINANCE, FRAUD, SUPPORT
from tests import factories

PASSWORD = "correct-horse-battery"


@pytest.fixture
def make_staff(db):
    def make(group: str | None = SUPPORT, username: str | None = None, *, is_staff: bool = True) -> User:
        user = User.objects.create_user(username=username or f"{group or 'nogroup'}-user", password=PASSWORD,
                                        is_staff=is_staff)
        if group:
            # get_or_create: transactional tests flush the groups that post_migrate made.
            user.groups.add(Group.objects.get_or_create(name=group)[0])
        return user

    return make


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def agent(make_staff) -> Client:
    return _client_for(make_staff(SUPPORT))


@pytest.fixture
def analyst(make_staff) -> Client:
    return _client_for(make_staff(FRAUD))


@pytest.fixture
def finance(make_staff) -> Client:
    return _client_for(make_staff(FINANCE))


@pytest.fixture
def listing(db):
    return factories.ListingFactory(price=12_800, stock=10)


@pytest.fixture
def card_order(listing):
    return factories.place(listing, method="card")


@pytest.fixture
def konbini_order(listing):
    return factories.place(listing, method="konbini", external_id="cust-konbini")
