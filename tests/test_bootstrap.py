"""`.ci/ensure-uv`, the first step of `make run`, `make test` and `.ci/run`, on machines without
uv: a Debian or Ubuntu python3 that refuses pip installs (PEP 668), with or without its venv
module, and a python3 without pip.

Each test copies the script into a temporary checkout and runs it with a PATH that holds only
bash, rm and the python3 under test. An "externally managed" python3 is a real CPython whose
standard library directory carries the EXTERNALLY-MANAGED marker, as Debian ships it: a copy
of this interpreter with its library linked beside it, plus the marker; without ensurepip it is
a Debian python3 without the python3-venv package.

The tests marked `network` install uv from the package index (PyPI), a few seconds with pip's
cache; `pytest -m "not network"` leaves them out.
"""

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import unavailable

SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "ensure-uv"
# Where a Debian or Ubuntu python3 without the python3-venv package has no ensurepip.
WITHOUT_VENV = ("ensurepip",)


@pytest.fixture(scope="module")
def pip_cache(tmp_path_factory) -> Path:
    """One download of uv for the whole module."""
    return tmp_path_factory.mktemp("pip-cache")


@pytest.fixture
def pypi():
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
    except OSError:
        unavailable("this test installs uv from PyPI, which is not reachable")


def checkout(tmp_path: Path) -> Path:
    """A checkout with only the script: what it installs lands in its own var/."""
    root = tmp_path / "checkout"
    (root / ".ci").mkdir(parents=True)
    shutil.copy2(SCRIPT, root / ".ci" / "ensure-uv")
    return root


def externally_managed_python(tmp_path: Path, *, leave_out: tuple[str, ...] = ()) -> Path:
    """A python3 whose standard library says "externally managed", with pip and without uv.

    A copy of this interpreter's executable finds its library next to itself: links to this
    one's, less what `leave_out` names, plus the marker. The virtual environments it creates
    run the same copy, as they run the system's python3 on Debian.
    """
    base = Path(sys.base_prefix)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    home = tmp_path / "system-python"
    (home / "bin").mkdir(parents=True)
    python3 = home / "bin" / "python3"
    shutil.copy2(Path(sys._base_executable).resolve(), python3)  # type: ignore[attr-defined]
    for entry in (base / "lib").iterdir():  # libpython, for a build that finds it beside it
        if entry != stdlib:
            (home / "lib" / entry.name).parent.mkdir(exist_ok=True)
            (home / "lib" / entry.name).symlink_to(entry)
    lib = home / stdlib.relative_to(base)
    lib.mkdir(parents=True)
    for entry in stdlib.iterdir():
        if entry.name not in (*leave_out, "site-packages", "EXTERNALLY-MANAGED"):
            (lib / entry.name).symlink_to(entry)
    (lib / "EXTERNALLY-MANAGED").write_text(
        "[externally-managed]\nError=Install Python packages with apt, or use a venv.\n"
    )
    # The system's pip, which must refuse; no uv among the system's packages.
    (lib / "site-packages").mkdir()
    for entry in (stdlib / "site-packages").iterdir():
        if entry.name.startswith("pip"):
            (lib / "site-packages" / entry.name).symlink_to(entry)
    return python3


def python_without_pip(tmp_path: Path) -> Path:
    venv = tmp_path / "nopip"
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", venv], check=True)  # type: ignore[attr-defined]
    return venv / "bin" / "python3"


def run(
    root: Path,
    tmp_path: Path,
    python3: Path | None,
    pip_cache: Path | None = None,
    extra: tuple[Path, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """The script with a PATH of bash, rm, `extra` programs and python3's directory: no uv."""
    bin_dir = tmp_path / "bin"
    if not bin_dir.exists():
        bin_dir.mkdir()
        for name in ("bash", "rm"):
            found = shutil.which(name)
            assert found, f"{name} is not installed"
            (bin_dir / name).symlink_to(found)
        for program in extra:
            (bin_dir / program.name).symlink_to(program)
    env = {
        key: value
        for key, value in os.environ.items()
        if key.startswith(("PIP_", "HTTP", "HTTPS", "NO_PROXY", "http", "https", "no_proxy"))
    }
    # The python3's own directory, not a link to it: Python finds its library from there.
    path = f"{bin_dir}:{python3.parent}" if python3 else str(bin_dir)
    env |= {"PATH": path, "HOME": str(tmp_path / "home"), "LANG": "C.UTF-8"}
    if pip_cache is not None:
        env["PIP_CACHE_DIR"] = str(pip_cache)
    return subprocess.run(
        [bin_dir / "bash", root / ".ci" / "ensure-uv"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_externally_managed_python_refuses_pip_as_debians_does(tmp_path):
    """The stand-in is faithful: its pip refuses, as on Debian 12 and Ubuntu 24.04."""
    python3 = externally_managed_python(tmp_path)
    refused = subprocess.run(
        [python3, "-m", "pip", "install", "--user", "uv"], capture_output=True, text=True
    )
    assert refused.returncode != 0
    assert "externally-managed-environment" in refused.stderr


def test_uv_on_path_is_used_and_nothing_is_installed(tmp_path):
    root = checkout(tmp_path)
    uv = tmp_path / "elsewhere" / "uv"
    uv.parent.mkdir()
    uv.write_text('#!/bin/sh\necho "uv 0.9.0"\n')
    uv.chmod(0o755)
    result = run(root, tmp_path, python3=None, extra=(uv,))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{tmp_path / 'bin' / 'uv'}\n"
    assert not (root / "var").exists()


def test_without_venv_or_pip_rights_it_says_what_to_install_and_installs_nothing(tmp_path):
    root = checkout(tmp_path)
    python3 = externally_managed_python(tmp_path, leave_out=WITHOUT_VENV)
    result = run(root, tmp_path, python3)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "cannot create a virtual environment" in result.stderr
    assert "externally managed (PEP 668)" in result.stderr  # pip --user was tried, refused
    assert "apt-get install python3-venv" in result.stderr
    assert "curl -LsSf https://astral.sh/uv/install.sh | sh" in result.stderr
    assert "--break-system-packages" not in result.stderr
    assert not (root / "var" / "tools").exists()
    assert not (tmp_path / "home" / ".local").exists()
    site_packages = python3.parent.parent.glob("lib/*/site-packages/*")
    assert all(p.name.startswith("pip") for p in site_packages)


@pytest.mark.network
def test_an_externally_managed_python_gets_uv_in_a_private_venv(tmp_path, pip_cache, pypi):
    root = checkout(tmp_path)
    python3 = externally_managed_python(tmp_path)
    result = run(root, tmp_path, python3, pip_cache)
    uv = root / "var" / "tools" / "bin" / "uv"
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{uv}\n"
    assert subprocess.run([uv, "--version"], capture_output=True, text=True).stdout.startswith(
        "uv "
    )
    # Nothing went into the system's Python or the user's site.
    site_packages = python3.parent.parent.glob("lib/*/site-packages/*")
    assert all(p.name.startswith("pip") for p in site_packages)
    assert not (tmp_path / "home" / ".local").exists()
    # The next run finds it at once.
    again = run(root, tmp_path, python3, pip_cache)
    assert again.stdout == result.stdout
    assert again.stderr == ""


@pytest.mark.network
def test_a_python_without_pip_gets_uv_in_a_private_venv(tmp_path, pip_cache, pypi):
    root = checkout(tmp_path)
    result = run(root, tmp_path, python_without_pip(tmp_path), pip_cache)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{root / 'var' / 'tools' / 'bin' / 'uv'}\n"
