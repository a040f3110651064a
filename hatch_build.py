"""The wheel's build hook: the validation engine's hot path compiled to C with mypyc.

A standard wheel build compiles the modules that pyproject.toml lists (``compile``) and ships each one's
extension beside its source; the source stays in the wheel, and Python imports the extension first. An
editable install is left pure Python, so that an edit to a source file takes effect at once.

``AEC_PURE_PYTHON=1`` builds a pure-Python wheel. A machine with no C compiler gets one too, with a
warning, and so does a build whose mypyc refuses a module (mypyc stops with SystemExit): the compiled
modules are a speed-up, never a change of behaviour. ``aep-export-contracts --version`` says which build
is installed.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CustomBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        if os.environ.get("AEC_PURE_PYTHON", "") not in ("", "0"):
            return
        sources = [str(path) for path in self.config.get("compile", [])]
        if not sources:
            return
        self._scratch = Path(tempfile.mkdtemp(prefix="aec-mypyc-"))  # removed once the wheel is written
        try:
            built = _compile(Path(self.root), sources, self._scratch)
        except (Exception, SystemExit) as exc:  # no compiler or headers, or mypyc refuses: the pure wheel still works
            print(f"warning: the engine is not compiled ({type(exc).__name__}: {str(exc)[-400:]}); "
                  "the wheel is pure Python", file=sys.stderr)
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        build_data["force_include"].update(built)

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        scratch = getattr(self, "_scratch", None)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _compile(root: Path, sources: list[str], scratch: Path) -> dict[str, str]:
    """Compile ``sources`` (paths under src/) in a scratch folder; {extension file: its path in the wheel}.

    The sources are type-checked by mypyc against a copy of the package in the scratch folder, with no
    configuration file (the project's strict settings need the runtime dependencies, which a build
    environment does not have: their types are read as Any there).
    """
    from mypyc.build import mypycify
    from setuptools import Distribution

    shutil.copytree(root / "src", scratch / "src")
    here = Path.cwd()
    os.chdir(scratch)
    try:
        extensions = mypycify(["--ignore-missing-imports", *sources], opt_level="3", target_dir="build")
        dist = Distribution({"ext_modules": extensions, "script_name": "setup.py"})
        command = dist.get_command_obj("build_ext")
        command.build_lib = str(scratch / "lib")
        command.build_temp = str(scratch / "temp")
        dist.run_command("build_ext")
    finally:
        os.chdir(here)
    return {str(path): path.relative_to(scratch / "lib").as_posix()
            for path in (scratch / "lib").rglob("*") if path.is_file()}
