"""The `storage` fixture: the same tests run on a local folder and on SeaweedFS S3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from portalgen.config import load_settings
from portalgen.storage import LocalStorage, Storage, open_storage


def settings_for(storage: dict[str, Any], base_dir: Path | None = None) -> Any:
    settings = load_settings(overrides={"storage": storage}, environ={})
    if base_dir is not None:
        import dataclasses

        settings = dataclasses.replace(settings, base_dir=base_dir)
    return settings


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """A fresh, empty storage of each kind."""
    if request.param == "local":
        return LocalStorage(tmp_path / "root")
    config = request.getfixturevalue("s3_storage_config")
    return open_storage(settings_for(config))
