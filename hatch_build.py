"""Hatch build hook: compile the gettext catalogs (.po -> .mo) into the wheel.

The repository keeps only the .po files (``*.mo`` is ignored by git); a checkout compiles
them in memory at run time (portalgen.presentation.catalogs), an installed wheel reads the .mo.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CatalogBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        self._tmp = Path(tempfile.mkdtemp(prefix="portalgen-mo-"))
        locale_dir = Path(self.root) / "portalgen" / "locale"
        for po in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
            relative = po.relative_to(locale_dir).with_suffix(".mo")
            target = self._tmp / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=relative.parts[0])
            with target.open("wb") as fh:
                write_mo(fh, catalog, use_fuzzy=False)
            build_data["force_include"][str(target)] = f"portalgen/locale/{relative.as_posix()}"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        tmp = getattr(self, "_tmp", None)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
