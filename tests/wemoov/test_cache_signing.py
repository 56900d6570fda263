"""The cache is not a credential: on Redis nothing is unpickled or believed unless it carries
a MAC made with a key derived from SECRET_KEY over its own key (wemoov/cache_backends.py).

The forgeries are written with redis-py straight into Redis, as someone who can reach Redis
but does not know SECRET_KEY would write them."""

from __future__ import annotations

import pickle

import pytest
import redis as redis_py
from django.core.cache import cache, caches
from django.test import override_settings
from knox.crypto import hash_token
from knox.models import AuthToken

from tests.conftest import client_for
from users.credentials import pack, token_cache_key
from wemoov import cache as wcache
from wemoov.cache_backends import CACHE_UNVERIFIED, RedisCache, SignedSerializer, Unverified

OTHER_SECRET = "another-deployment-s-secret-key-of-the-same-length-as-any"


# --- the envelope, on any backend ---------------------------------------------------------
def test_a_sealed_value_opens_under_its_own_key_only():
    signed = SignedSerializer()
    data = signed.dumps("wemoov:1:a", {"x": 1}, 60)
    assert signed.loads("wemoov:1:a", data) == {"x": 1}
    with pytest.raises(Unverified):
        signed.loads("wemoov:1:b", data)


def test_a_value_sealed_under_another_secret_key_does_not_open():
    with override_settings(SECRET_KEY=OTHER_SECRET):
        data = SignedSerializer().dumps("wemoov:1:a", {"x": 1}, 60)
    with pytest.raises(Unverified):
        SignedSerializer().loads("wemoov:1:a", data)


@pytest.mark.parametrize("where", ["mark", "mac", "deadline", "payload", "truncated", "appended"])
def test_tampered_bytes_do_not_open(where):
    signed = SignedSerializer()
    data = bytearray(signed.dumps("wemoov:1:a", {"role": "client"}, 60))
    offsets = {"mark": 1, "mac": 10, "deadline": 40, "payload": len(data) - 3}
    if where == "truncated":
        data = data[:-1]
    elif where == "appended":
        data += b"."
    else:
        data[offsets[where]] ^= 0x01
    with pytest.raises(Unverified):
        signed.loads("wemoov:1:a", bytes(data))


def test_a_value_past_the_deadline_it_was_written_with_does_not_open():
    signed = SignedSerializer()
    data = signed.seal("wemoov:1:a", pickle.dumps({"x": 1}), -1)  # its TTL ended a second ago
    with pytest.raises(Unverified):
        signed.loads("wemoov:1:a", data)
    assert signed.loads("wemoov:1:a", signed.seal("wemoov:1:a", pickle.dumps({"x": 1}), None)) == {"x": 1}


def test_integers_stay_raw_and_are_parsed_never_unpickled():
    signed = SignedSerializer()
    assert signed.dumps("k", 41, 60) == 41  # what Redis's INCR needs
    assert signed.loads("k", b"42") == 42
    assert signed.loads("k", b"-7") == -7
    assert isinstance(signed.dumps("k", True, 60), bytes)  # a bool is not a counter: sealed
    with pytest.raises(Unverified):
        signed.loads("k", pickle.dumps({"role": "admin"}))  # a plain pickle is a miss


# --- Redis, written to from outside -------------------------------------------------------
@pytest.fixture
def raw_redis():
    """redis-py on the test cache's Redis database, bypassing Django."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        pytest.skip("Redis only: the PostgreSQL pass of .ci/run sets CACHE_URL to Redis; locmem is not signed")
    client = redis_py.Redis.from_url(backend._servers[0])
    yield client
    client.close()


class _CreatesAFile:
    """A pickle whose unpickling opens (so creates) a file: the proof of code execution."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _forged_lookup(user, token_digest: str) -> bytes:
    """A token lookup entry as `users.credentials` writes it, pickled by someone else."""
    token = AuthToken(digest=token_digest, token_key=token_digest[:15], user=user, expiry=None)
    return pickle.dumps(pack(user, token))


def _unverified_count() -> float:
    return CACHE_UNVERIFIED.labels(backend="redis")._value.get()


@pytest.mark.django_db
def test_a_forged_lookup_under_a_real_token_key_is_a_miss_and_not_an_authentication(raw_redis, client_user, admin_user):
    api = client_for(client_user)
    digest = AuthToken.objects.get(user=client_user).digest
    raw_redis.set(cache.make_key(token_cache_key(digest)), _forged_lookup(admin_user, digest))
    before = _unverified_count()

    me = api.get("/api/users/me/")

    assert (me.status_code, me.json()["email"]) == (200, client_user.email)  # from the database
    assert api.get("/api/users/").status_code == 403  # still a client, not the forged admin
    assert _unverified_count() == before + 1  # one forged read; the second read the lookup the first cached


@pytest.mark.django_db
def test_a_forged_lookup_for_a_made_up_token_does_not_authenticate(raw_redis, admin_user):
    made_up = "f" * 64
    digest = hash_token(made_up)
    raw_redis.set(cache.make_key(token_cache_key(digest)), _forged_lookup(admin_user, digest))
    api = client_for(admin_user)
    api.credentials(HTTP_AUTHORIZATION=f"Token {made_up}")
    assert api.get("/api/users/").status_code == 401


@pytest.mark.django_db
def test_a_genuine_lookup_copied_under_another_token_digest_does_not_authenticate(raw_redis, admin_user):
    """Whoever can write to Redis copies a superuser's signed lookup under the digest of a
    token they made up: the MAC covers the key, so it is a miss."""
    admin_api = client_for(admin_user)
    assert admin_api.get("/api/users/").status_code == 200  # the admin's lookup is cached, signed
    real = raw_redis.get(cache.make_key(token_cache_key(AuthToken.objects.get(user=admin_user).digest)))
    assert real is not None
    made_up = "e" * 64
    raw_redis.set(cache.make_key(token_cache_key(hash_token(made_up))), real)
    admin_api.credentials(HTTP_AUTHORIZATION=f"Token {made_up}")
    assert admin_api.get("/api/users/").status_code == 401


@pytest.mark.django_db
def test_a_forged_pickle_with_a_side_effect_is_never_unpickled(raw_redis, client_user, tmp_path):
    api = client_for(client_user)
    digest = AuthToken.objects.get(user=client_user).digest
    marker = tmp_path / "unpickled"
    payload = pickle.dumps(_CreatesAFile(marker))
    keys = (token_cache_key(digest), "ver:dashboard", "val:dashboard:1:all", "counter")

    def plant():
        for key in keys:
            raw_redis.set(cache.make_key(key), payload)

    plant()
    assert api.get("/api/users/me/").status_code == 200  # the token lookup: get_many (MGET)
    plant()  # the request wrote the genuine lookup and a version over the forgeries
    assert cache.get(token_cache_key(digest)) is None  # get
    assert cache.get_many([token_cache_key(digest), "ver:dashboard"]) == {}  # get_many
    assert wcache.get_confirming(token_cache_key(digest)) is None
    assert cache.get_or_set("val:dashboard:1:all", "default") == "default"  # a miss, not overwritten
    assert cache.touch("counter", 30) is False
    with pytest.raises(redis_py.ResponseError):
        cache.incr("counter")  # Redis refuses to INCR it; nothing reads it back
    assert not marker.exists()

    pickle.loads(payload)  # the control: the same bytes, unpickled, do create the file
    assert marker.exists()


@pytest.mark.django_db
def test_a_value_signed_with_another_secret_key_is_a_miss(raw_redis, client_user, django_assert_num_queries):
    api = client_for(client_user)
    with override_settings(SECRET_KEY=OTHER_SECRET):
        assert api.get("/api/users/me/").status_code == 200  # its lookup cached under the other key
        cache.set("greeting", {"hello": "world"})
        with django_assert_num_queries(1):  # warm: under the key it was signed with, it is believed
            assert api.get("/api/bookings/?page_size=1").status_code == 200
    assert cache.get("greeting") is None
    with django_assert_num_queries(3):  # cold: the lookup signed with the other key is a miss
        assert api.get("/api/bookings/?page_size=1").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("offset", [0, 10, 40, -2])  # the mark, the MAC, the deadline, the pickle
def test_tampered_bytes_in_redis_are_a_miss(raw_redis, offset):
    cache.set("entry", {"role": "client"}, 60)
    full_key = cache.make_key("entry")
    data = bytearray(raw_redis.get(full_key))
    data[offset] ^= 0x01
    raw_redis.set(full_key, bytes(data))
    assert cache.get("entry") is None
    assert cache.get_many(["entry"]) == {}


@pytest.mark.django_db
def test_a_genuine_entry_replayed_after_its_ttl_is_a_miss(raw_redis):
    """A value captured while valid and written back, without a TTL, once it expired (a
    revoked token's lookup, say): the deadline it was sealed with is part of the MAC."""
    full_key = cache.make_key("entry")
    raw_redis.set(full_key, SignedSerializer().seal(full_key, pickle.dumps({"role": "client"}), -1))
    assert cache.get("entry") is None


@pytest.mark.django_db
def test_counters_stay_raw_integers_that_incr_and_decr_move(raw_redis):
    assert cache.add("attempts", 0, 60)
    assert cache.incr("attempts") == 1
    assert cache.incr("attempts", 4) == 5
    assert cache.decr("attempts") == 4
    assert raw_redis.get(cache.make_key("attempts")) == b"4"  # raw: Redis's INCR works on it
    assert cache.get("attempts") == 4
    assert cache.get_many(["attempts"]) == {"attempts": 4}
    assert cache.get_or_set("attempts", 100) == 4
    cache.set_many({"a": 1, "b": {"x": 2}}, 60)
    assert cache.get_many(["a", "b"]) == {"a": 1, "b": {"x": 2}}
    assert cache.incr("a") == 2
    assert cache.touch("attempts", 120)
    assert 60 < raw_redis.ttl(cache.make_key("attempts")) <= 120
    assert cache.get("attempts") == 4


@pytest.mark.django_db
def test_touch_seals_a_value_again_with_its_new_deadline(raw_redis):
    cache.set("entry", {"x": 1}, 1)
    assert cache.touch("entry", 300)
    assert 1 < raw_redis.ttl(cache.make_key("entry")) <= 300
    data = raw_redis.get(cache.make_key("entry"))
    raw_redis.set(cache.make_key("entry"), data)  # kept beyond the first deadline: still opens
    assert cache.get("entry") == {"x": 1}
    assert cache.touch("entry", None)
    assert raw_redis.ttl(cache.make_key("entry")) == -1
    assert cache.get("entry") == {"x": 1}
    assert cache.touch("missing", 30) is False


@pytest.mark.django_db
def test_an_integer_written_under_an_entry_key_is_a_miss_not_an_error(raw_redis):
    """Anyone can write a raw integer (they are not signed): under a statistics entry's key it
    is not an entry, so the value is computed, not a 500."""
    wcache.cached("dashboard", "all", lambda: "v1")
    full = wcache.data_key("dashboard", "all")
    raw_redis.set(cache.make_key(full), b"7")
    wcache.clear_local()
    result = wcache.cached("dashboard", "all", lambda: "v2")
    assert (result.status, result.value) == ("MISS", "v2")
