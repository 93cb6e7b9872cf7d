"""The image's build steps, run here without a Docker engine: the Dockerfile's build stage
is replayed in a temporary directory (each `COPY` copies from the repository, each `RUN`
runs with `/opt/venv` and `/src` pointed at temporary ones), then the installed bridge is
started as the image would start it. It proves that `requirements.lock` is complete
(`--no-deps`, then `pip check`) and that the files the Dockerfile copies are enough.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


def build_stage() -> list[tuple[str, str]]:
    """The instructions of the Dockerfile's first stage, continuation lines joined."""
    steps: list[tuple[str, str]] = []
    stage = 0
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pending = f"{pending} {line.rstrip(chr(92)).strip()}".strip()
        if line.endswith("\\"):
            continue
        word, _, rest = pending.partition(" ")
        pending = ""
        if word == "FROM":
            stage += 1
            continue
        if stage == 1:
            steps.append((word, rest))
    return steps


@pytest.mark.timeout(900)  # installs every dependency: about a minute, more on a busy machine
def test_the_build_stage_installs_a_working_bridge_from_the_lock(tmp_path: Path) -> None:
    venv, src = tmp_path / "venv", tmp_path / "src"
    src.mkdir()
    ran: list[str] = []
    for word, rest in build_stage():
        if word == "COPY":
            *sources, _target = shlex.split(rest)
            for source in sources:
                origin = ROOT / source
                if origin.is_dir():
                    shutil.copytree(origin, src / source, ignore=shutil.ignore_patterns(
                        "__pycache__", "*.pyc"))  # fmt: skip
                else:
                    shutil.copy2(origin, src / source)
        elif word == "RUN":
            command = rest.replace("/opt/venv", str(venv)).replace(
                "python -m venv", f"{sys.executable} -m venv"
            )
            result = subprocess.run(
                ["bash", "-c", command], cwd=src, capture_output=True, text=True, timeout=900
            )
            assert result.returncode == 0, (
                f"{command}\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
            )
            ran.append(command)
        else:
            assert word in ("ENV", "WORKDIR"), word
    assert any("-r requirements.lock" in c for c in ran)
    assert any("pip check" in c for c in ran)

    # the image's command works, and every process's module imports
    version = subprocess.run(
        [str(venv / "bin" / "bridge"), "--version"], capture_output=True, text=True, timeout=60
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("bridge")
    imports = "import bridge.web, tasks.app, connectors.sage_active.sandbox, gunicorn, celery"
    probe = subprocess.run(
        [str(venv / "bin" / "python"), "-c", imports],
        cwd=tmp_path,  # not the repository: the installed package, not the sources
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "BRIDGE_ENV_FILE": ""},
    )
    assert probe.returncode == 0, probe.stderr
    # nothing of the working tree but what was named (no .env, no .bridge/, no tests)
    copied = {p.name for p in src.iterdir()} - {"build", "sage_active_bridge.egg-info"}
    named = {"requirements.lock", "pyproject.toml", "README.md", "bridge", "connectors", "tasks"}
    assert copied == named
