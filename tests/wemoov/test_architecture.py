"""The rules of docs/architecture.md, checked on the source: who may import whom, services
without HTTP, every documented environment variable."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("users", "fleet", "bookings", "payments", "stats", "demo")
# The domain's dependency direction (docs/architecture.md, "Who may import whom").
DOMAIN_MAY_IMPORT = {
    "users": set(),
    "fleet": {"users"},
    "bookings": {"users", "fleet"},
    "payments": {"users", "bookings"},
    "stats": {"users", "fleet", "bookings", "payments"},
}
DOMAIN_MODULES = ("models.py", "services.py", "selectors.py")
FIRST_PARTY = {*APPS, "wemoov", "bench", "tests"}


def imported_packages(path: Path) -> set[str]:
    """The first-party top-level packages a module imports (at any depth of the file)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names & FIRST_PARTY


@pytest.mark.parametrize("app", sorted(DOMAIN_MAY_IMPORT))
def test_domain_modules_import_only_apps_upstream_of_them(app):
    for name in DOMAIN_MODULES:
        path = ROOT / app / name
        if path.exists():
            others = imported_packages(path) - {app, "wemoov"}
            assert others <= DOMAIN_MAY_IMPORT[app], f"{app}/{name} imports {sorted(others)}"


@pytest.mark.parametrize("app", sorted(DOMAIN_MAY_IMPORT))
def test_services_and_selectors_know_nothing_of_http(app):
    for name in ("services.py", "selectors.py"):
        path = ROOT / app / name
        if path.exists():
            assert "rest_framework" not in path.read_text(), f"{app}/{name} uses DRF"


def test_the_kernel_imports_no_app():
    for path in (ROOT / "wemoov").rglob("*.py"):
        if path.name in ("settings.py", "settings_test.py", "urls.py") or "migrations" in path.parts:
            continue
        assert imported_packages(path) <= {"wemoov"}, f"{path.relative_to(ROOT)} imports an app"


def test_nothing_in_the_product_imports_tests_bench_or_demo():
    for app in (*DOMAIN_MAY_IMPORT, "wemoov"):
        for path in (ROOT / app).rglob("*.py"):
            assert not imported_packages(path) & {"tests", "bench", "demo"}, path.relative_to(ROOT)
    for path in (ROOT / "bench").rglob("*.py"):
        assert "tests" not in imported_packages(path), path.relative_to(ROOT)


@pytest.mark.parametrize("app", ["users", "fleet", "bookings", "payments", "stats"])
def test_every_app_with_endpoints_has_its_urls(app):
    assert (ROOT / app / "api.py").exists() == (ROOT / app / "urls.py").exists()


ENV_READ = re.compile(r'(?:env_(?:bool|int|list)\(|os\.environ\.get\(|os\.environ\[)\s*"([A-Z][A-Z0-9_]+)"')


def test_every_environment_variable_the_product_reads_is_in_the_readme():
    read = set()
    for app in (*APPS, "wemoov"):
        for path in (ROOT / app).rglob("*.py"):
            read |= set(ENV_READ.findall(path.read_text()))
    assert {"DATABASE_URL", "SECRET_KEY"} <= read, "the scan found too little: its pattern is broken"
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", (ROOT / "README.md").read_text()))
    assert sorted(read - documented) == []
