"""users.services called directly: creation, profile updates, logout, and what they drop
from the cache once the transaction commits."""

import pytest
from django.core.cache import cache
from knox.models import AuthToken

from demo.factories import PASSWORD, AdminFactory, ClientFactory, DriverFactory
from users.credentials import pack, token_cache_key
from users.models import User
from users.services import user_change_check, user_create, user_logout, user_update
from wemoov.cache import USER_STATS, cached, data_key
from wemoov.errors import InvalidInput, NotPermitted

pytestmark = pytest.mark.django_db


def _token(user) -> AuthToken:
    """A knox token whose lookup is cached, as the first authenticated request leaves it."""
    token, _ = AuthToken.objects.create(user=user)
    cache.set(token_cache_key(token.digest), pack(user, token))
    return token


def _cached_lookup(token: AuthToken):
    return cache.get(token_cache_key(token.digest))


def _prime_stats(user) -> None:
    cached(USER_STATS, str(user.pk), lambda: {"bookings": 0})


def _stats_cached(user) -> bool:
    return cache.get(data_key(USER_STATS, str(user.pk))) is not None


# --- user_create ----------------------------------------------------------------------------
def test_user_create_stores_the_email_trimmed_and_lower_cased():
    user = user_create(email="  Ana.Kone@Example.COM ", password=PASSWORD)

    assert User.objects.get(pk=user.pk).email == "ana.kone@example.com"


def test_user_create_hashes_the_password_and_makes_a_client_by_default():
    user = user_create(email="ana@example.com", password=PASSWORD, first_name="Ana", phone="+225 01")

    stored = User.objects.get(pk=user.pk)
    assert stored.password != PASSWORD
    assert stored.check_password(PASSWORD)
    assert (stored.role, stored.is_staff, stored.first_name, stored.phone) == ("client", False, "Ana", "+225 01")


def test_user_create_refuses_an_email_taken_in_another_case():
    ClientFactory(email="ana@example.com")

    with pytest.raises(InvalidInput) as refused:
        user_create(email="ANA@Example.com", password=PASSWORD)

    assert list(refused.value.errors) == ["email"]
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("Xy7!", "too short"),
        ("password123", "too common"),
        ("80417263951", "entirely numeric"),
        ("ana.kone@example.com", "too similar to the email"),
    ],
)
def test_user_create_refuses_a_weak_password_on_the_password_field(password, why):
    with pytest.raises(InvalidInput) as refused:
        user_create(email="ana.kone@example.com", password=password)

    assert list(refused.value.errors) == ["password"], why
    assert refused.value.errors["password"], why
    assert not User.objects.exists()


def test_user_create_costs_an_existence_check_and_one_insert(django_assert_num_queries):
    # SELECT 1 (email taken?), SAVEPOINT, INSERT, RELEASE
    with django_assert_num_queries(4):
        user_create(email="ana@example.com", password=PASSWORD)


# --- user_update ----------------------------------------------------------------------------
def test_user_update_changes_the_fields_passed_and_only_those():
    user = ClientFactory(first_name="Ana", last_name="Kone", phone="+225 01")
    User.objects.filter(pk=user.pk).update(last_name="Written-meanwhile")  # `user` is now stale

    user_update(user=user, first_name="Awa", phone="")

    stored = User.objects.get(pk=user.pk)
    assert (stored.first_name, stored.phone) == ("Awa", "")
    assert stored.last_name == "Written-meanwhile"
    assert stored.is_active is True


def test_user_update_with_nothing_passed_writes_nothing(django_assert_num_queries):
    user = ClientFactory(first_name="Ana")
    User.objects.filter(pk=user.pk).update(first_name="Written-meanwhile")

    with django_assert_num_queries(2):  # SAVEPOINT and RELEASE of the atomic block: no UPDATE
        user_update(user=user)

    assert User.objects.get(pk=user.pk).first_name == "Written-meanwhile"


def test_user_update_by_an_admin_deactivates_another_user():
    admin, user = AdminFactory(), ClientFactory()

    user_update(user=user, actor=admin, is_active=False)

    assert User.objects.get(pk=user.pk).is_active is False


def test_user_update_refuses_an_admin_deactivating_themselves():
    admin = AdminFactory()

    with pytest.raises(InvalidInput) as refused:
        user_update(user=admin, actor=admin, is_active=False)

    assert list(refused.value.errors) == ["is_active"]
    assert User.objects.get(pk=admin.pk).is_active is True


def test_user_update_lets_an_admin_edit_their_own_name():
    admin = AdminFactory(first_name="Old")

    user_update(user=admin, actor=admin, first_name="New", is_active=True)

    assert User.objects.get(pk=admin.pk).first_name == "New"


def test_user_update_drops_cached_token_lookups_and_stats_after_the_commit(django_capture_on_commit_callbacks):
    user = ClientFactory()
    first, second = _token(user), _token(user)
    _prime_stats(user)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        user_update(user=user, first_name="Changed")
    assert _cached_lookup(first) is not None, "dropped before the commit: a rollback would leave it missing"
    assert _stats_cached(user)

    for callback in callbacks:
        callback()
    assert _cached_lookup(first) is None
    assert _cached_lookup(second) is None
    assert not _stats_cached(user)


def test_user_update_leaves_other_users_cached_lookups_alone(django_capture_on_commit_callbacks):
    user, other = ClientFactory(), ClientFactory()
    others_token = _token(other)
    _prime_stats(other)

    with django_capture_on_commit_callbacks(execute=True):
        user_update(user=user, is_active=False)

    assert _cached_lookup(others_token) is not None
    assert _stats_cached(other)


def test_user_update_costs_one_update_and_a_token_lookup(django_assert_num_queries):
    user = ClientFactory()
    _token(user)

    # SAVEPOINT, UPDATE, SELECT the token digests, DELETE the tokens (a deactivation), RELEASE
    with django_assert_num_queries(5):
        user_update(user=user, first_name="Changed", is_active=False)


# --- user_change_check ----------------------------------------------------------------------
def test_only_a_superuser_changes_another_staff_member_even_with_no_change():
    staff, other, superuser = AdminFactory(is_superuser=False), AdminFactory(is_superuser=False), AdminFactory()

    for changes in ({}, {"first_name": "X"}, {"password": "x"}):
        with pytest.raises(NotPermitted):
            user_change_check(actor=staff, user=other, changes=changes)
        user_change_check(actor=superuser, user=other, changes=changes)


@pytest.mark.parametrize(
    "changes",
    [{"role": "admin"}, {"is_staff": True}, {"is_superuser": True}, {"groups": []}, {"user_permissions": []}],
    ids=lambda changes: next(iter(changes)),
)
def test_only_a_superuser_grants_access(changes):
    staff, client = AdminFactory(is_superuser=False), ClientFactory()

    with pytest.raises(NotPermitted):
        user_change_check(actor=staff, user=client, changes=changes)
    user_change_check(actor=AdminFactory(), user=client, changes=changes)
    user_change_check(actor=staff, user=client, changes={"role": "driver", "is_active": False, "first_name": "X"})


@pytest.mark.parametrize("superuser", [True, False])
def test_nobody_changes_their_own_access_or_activity(superuser):
    me = AdminFactory(is_superuser=superuser)

    with pytest.raises(InvalidInput) as refused:
        user_change_check(actor=me, user=me, changes={"role": "client", "is_active": False, "first_name": "X"})

    assert sorted(refused.value.errors) == ["is_active", "role"]
    user_change_check(actor=me, user=me, changes={"first_name": "X", "password": "x"})


def test_a_user_with_a_driver_profile_keeps_the_driver_role(django_assert_num_queries):
    driver, superuser = DriverFactory().user, AdminFactory()

    with django_assert_num_queries(1), pytest.raises(InvalidInput) as refused:
        user_change_check(actor=superuser, user=driver, changes={"role": "client"})

    assert list(refused.value.errors) == ["role"]
    with django_assert_num_queries(0):
        user_change_check(actor=superuser, user=driver, changes={"role": "driver", "first_name": "X"})


def test_user_update_by_a_staff_member_on_another_staff_member_is_refused_even_unchanged():
    staff, other = AdminFactory(is_superuser=False), AdminFactory(is_superuser=False, first_name="Same")

    with pytest.raises(NotPermitted):
        user_update(user=other, actor=staff, first_name="Same")


def test_user_update_passing_ones_own_activity_unchanged_is_no_change_of_activity():
    staff = AdminFactory(is_superuser=False, first_name="Old")

    user_update(user=staff, actor=staff, first_name="New", is_active=True)

    assert User.objects.get(pk=staff.pk).first_name == "New"


# --- user_logout ----------------------------------------------------------------------------
def test_user_logout_deletes_that_token_and_its_cached_lookup_only():
    user = ClientFactory()
    leaving, staying = _token(user), _token(user)
    leaving_key = token_cache_key(leaving.digest)  # deleting the row sets the instance's pk (the digest) to None

    user_logout(token=leaving)

    assert list(AuthToken.objects.filter(user=user).values_list("digest", flat=True)) == [staying.digest]
    assert cache.get(leaving_key) is None
    assert _cached_lookup(staying) is not None
