import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from wemoov import settings as project_settings
from wemoov.apps import check_shared_cache


def test_postgres_url_selects_psycopg_with_persistent_connections():
    config = project_settings.database_config("postgres://u:p@db:5432/wemoov")
    assert config["ENGINE"].endswith("postgresql")
    assert config["NAME"] == "wemoov"
    assert config["CONN_MAX_AGE"] == project_settings.CONN_MAX_AGE


def test_database_pool_turns_on_the_native_pool(monkeypatch):
    monkeypatch.setattr(project_settings, "DATABASE_POOL", True)
    config = project_settings.database_config("postgres://u:p@db:5432/wemoov")
    assert config["OPTIONS"]["pool"]["max_size"] >= 1
    assert config["CONN_MAX_AGE"] == 0


def test_redis_url_selects_the_redis_backend():
    assert project_settings.cache_config("redis://127.0.0.1:6379/1")["BACKEND"].endswith("RedisCache")


def test_default_cache_is_locmem():
    assert project_settings.cache_config("locmem://")["BACKEND"].endswith("LocMemCache")


def test_unknown_cache_scheme_is_refused():
    with pytest.raises(ImproperlyConfigured):
        project_settings.cache_config("memcached://x")


def test_locmem_without_debug_warns_that_processes_will_not_share_it():
    with override_settings(DEBUG=False, CACHES={"default": {"BACKEND": "wemoov.cache_backends.LocMemCache"}}):
        assert [w.id for w in check_shared_cache()] == ["wemoov.W001"]
    with override_settings(DEBUG=False, CACHES={"default": {"BACKEND": "wemoov.cache_backends.RedisCache"}}):
        assert check_shared_cache() == []
