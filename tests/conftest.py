"""Shared fixtures. Services (SeaweedFS, SMTP, Chromium) have their own fixture modules."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from portalgen.config import Settings, load_settings
from portalgen.demo import generate_demo
from portalgen.load import LoadOptions, LoadResult, load_export

# Every test runs on the same calendar day, so statuses (overdue, expired) are stable.
TODAY = date(2026, 6, 15)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock",
        metavar="WHEN",
        help="run with this process's clock set to WHEN (ISO 8601, UTC; e.g. 2028-02-29T23:30), "
        "ticking on from there: proves the tests do not depend on the real date",
    )


def pytest_configure(config: pytest.Config) -> None:
    """With --clock, every date and time this process reads starts at WHEN (time-machine).

    Started here rather than in a fixture so module-level code and session fixtures see it
    too; each xdist worker runs this hook for itself."""
    when = config.getoption("--clock", default=None)
    if when:
        import time_machine

        moment = datetime.fromisoformat(when)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        traveller = time_machine.travel(moment, tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)


# Services that keep their own clock: the S3 server refuses requests signed at another
# time, and OpenSSL checks the test certificate against the machine's clock.
OUTSIDE_CLOCK_FIXTURES = frozenset(
    {"s3_server", "s3_bucket", "s3_storage_config", "smtp_tls_files"}
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--clock", default=None):
        return
    skip = pytest.mark.skip(reason="--clock: compares with a clock this process cannot move")
    for item in items:
        outside = set(getattr(item, "fixturenames", ())) & OUTSIDE_CLOCK_FIXTURES
        if outside or item.get_closest_marker("realclock") or item.get_closest_marker("s3"):
            item.add_marker(skip)


def demo_settings(directory: Path, **overrides: object) -> Settings:
    return load_settings(directory / "config.yaml", overrides=overrides, environ={})


def load_demo(directory: Path, settings: Settings | None = None) -> LoadResult:
    settings = settings or demo_settings(directory)
    return load_export(directory, LoadOptions.from_settings(settings, today=TODAY))


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo export (8 customers) with config.yaml and secret. Treat as read-only."""
    from portalgen.access.secret import create_secret_file
    from portalgen.demo import demo_config_text

    directory = tmp_path_factory.mktemp("demo")
    generate_demo(directory, customers=8, seed=7, today=TODAY)
    (directory / "config.yaml").write_text(demo_config_text(), encoding="utf-8")
    create_secret_file(directory / "secret.key")
    return directory


@pytest.fixture
def fresh_demo(tmp_path: Path, demo_dir: Path) -> Path:
    """A private copy of the demo export that a test may change."""
    import shutil

    target = tmp_path / "demo"
    shutil.copytree(demo_dir, target)
    return target


# Service fixtures: s3_server, s3_bucket, s3_storage_config (SeaweedFS); `storage` runs a
# test on both backends (a folder and SeaweedFS S3); smtp_server, smtp_tls_files (aiosmtpd);
# browser (Debian's Chromium through Playwright); api (a FacturaScripts API stand-in).
pytest_plugins = [
    "tests.publish_fixtures",
    "tests.render_fixtures",
    "tests.s3server",
    "tests.smtpserver",
    "tests.lambda_api",
    "tests.ssm_api",
    "tests.storage_backends",
    "tests.gate_fixtures",
    "tests.interact_fixtures",
    "tests.browser_fixtures",
    "tests.fs_api",
    "tests.push_fixtures",
    "tests.seal_fixtures",
    "tests.payment_fixtures",
    "tests.upload_fixtures",
]
