"""Faults for real: a publish killed with SIGKILL, an S3 server stopped mid-upload.

Every customer keeps a whole portal (the old one or the new one), and the next run
finishes the job without rendering or uploading again what the interrupted run did.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest

from portalgen.publish.manifest import manifest_key
from portalgen.publish.report import PublishReport
from portalgen.storage import S3Storage
from tests.publish_fixtures import GRANTED, Site
from tests.s3server import SeaweedServer

pytestmark = pytest.mark.slow


def manifests(site: Site) -> dict[str, bytes | None]:
    return {code: site.storage.get(manifest_key(site.keys[code])) for code in GRANTED}


def wait_for(condition: Callable[[], bool], timeout: float = 120.0) -> bool:
    """Poll storage (not the clock) until `condition` holds; False if it never did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return False


def assert_nothing_redone(
    site: Site,
    rerun: PublishReport,
    cached_before: set[str],
    blobs_before: dict[str, set[str]],
) -> None:
    """The rerun rendered only keys the interrupted run had not cached, and uploaded only
    blobs that had not landed; what it did not redo it still published."""
    for outcome in rerun.outcomes:
        manifest = site.manifest(outcome.code)
        rendered = set(outcome.rendered)
        for path, entry in manifest.files.items():
            if entry.key in cached_before:
                assert path not in rendered, f"{outcome.code}: {path} was rendered again"
        needed = manifest.blobs() - blobs_before[outcome.code]
        assert outcome.uploaded == len(needed), f"{outcome.code}: uploads redone"


@pytest.mark.realclock  # a subprocess runs on the real clock
def test_sigkill_mid_publish_then_rerun(site: Site) -> None:
    config = site.write_config()
    site.publish(today=None)
    first = manifests(site)
    cached_first = site.cached_keys()
    config = site.write_config(company={"name": "Suministros Levante Nueva"})
    command = [sys.executable, "-m", "portalgen", "--config", str(config), "publish"]
    log = site.export_dir / "publish.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, str(site.export_dir), "--jobs", "2"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its render workers are in its process group
        )
    try:

        def one_committed() -> bool:
            return process.poll() is not None or manifests(site) != first

        assert wait_for(one_committed)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the group of the process we started
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, log.read_text()
    after_kill = manifests(site)
    committed = [c for c in GRANTED if after_kill[c] != first[c]]
    assert 1 <= len(committed) < len(GRANTED)  # killed mid-publish
    site.check_portals()  # old or new, every portal is whole
    cached = site.cached_keys()
    assert cached - cached_first  # the killed run had rendered things
    blobs = {code: site.blobs(code) for code in GRANTED}

    rerun = site.publish(today=None)
    assert rerun.ok, rerun.failed
    for code in GRANTED:
        outcome = rerun.outcome(code)
        assert outcome is not None
        assert outcome.status == ("unchanged" if code in committed else "changed")
    assert_nothing_redone(site, rerun, cached, blobs)
    site.check_portals()
    assert b"Nueva" in site.file(GRANTED[-1], "index.html")
    again = site.publish(today=None)
    assert (again.files_rendered, again.files_uploaded) == (0, 0)


@pytest.mark.s3
def test_s3_server_stopped_mid_upload_then_rerun(
    s3_site: Site, s3_server: SeaweedServer, request: pytest.FixtureRequest
) -> None:
    site = s3_site
    request.addfinalizer(s3_server.start)
    site.publish()
    blobs_first = {code: site.blobs(code) for code in GRANTED}
    manifests_first = manifests(site)
    # A new company name changes every page; one upload at a time makes the window wide.
    site.configure(company={"name": "Suministros Levante Nueva"}, publish={"upload_threads": 1})
    watcher = S3Storage.from_settings(site.settings)  # a connection of its own
    results: list[PublishReport] = []
    worker = threading.Thread(target=lambda: results.append(site.publish()))
    worker.start()
    try:

        def uploading() -> bool:
            return not worker.is_alive() or any(
                _new_blobs(watcher, site, code, blobs_first) for code in GRANTED
            )

        assert wait_for(uploading)
    finally:
        s3_server.stop()
    worker.join(timeout=300)
    assert not worker.is_alive()
    [interrupted] = results
    assert not interrupted.ok
    assert all(o.code in GRANTED and o.reason for o in interrupted.failed)
    s3_server.start()
    site.check_portals()  # every portal whole: the old one, or the new one
    cached = site.cached_keys()
    blobs = {code: site.blobs(code) for code in GRANTED}
    unfinished = [c for c in GRANTED if manifests(site)[c] == manifests_first[c]]
    # Stopped mid-upload: a customer whose new manifest never landed has new blobs.
    assert any(blobs[c] - blobs_first[c] for c in unfinished)

    rerun = site.publish()
    assert rerun.ok, rerun.failed
    assert sorted(o.code for o in rerun.outcomes if o.status == "changed") == unfinished
    assert_nothing_redone(site, rerun, cached, blobs)
    site.check_portals()


def _new_blobs(watcher: S3Storage, site: Site, code: str, before: dict[str, set[str]]) -> int:
    prefix = f"portals/{site.keys[code]}/files/"
    return len({i.key[len(prefix) :] for i in watcher.list(prefix)} - before[code])
