"""A wheel built from the repository carries the built front ends (pyproject.toml's package
data), and `opsgraph serve` installed from it serves the web app at `/` with no Node.js.

The wheel is built by pip, as a user would (`pip wheel --no-deps`: setuptools in an isolated
build environment, from the package index), from a copy of what git holds plus the builds of
scripts/build-web. It is installed into a fresh virtual environment whose only other
packages are the project's locked dependencies, made visible through a .pth file (a path
line: the project's own editable install, which a .pth import line activates, stays out)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import httpx2 as httpx
import pytest

from gateway.web import STATIC
from tests.server import server_env, serving
from tests.web.build import asset_references, built_app, strip_nonce

REPOSITORY = Path(__file__).resolve().parents[2]
PACKAGES = ("gateway", "domains", "workers", "migrations")


def _run(*command: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(c) for c in command], capture_output=True, text=True, timeout=300, check=False, cwd=cwd
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    output: str = done.stdout
    return output


def _build_files(directory: Path) -> dict[str, bytes]:
    """The build's files by their path in the package (hidden files, such as the build's
    source hash, are not package data)."""
    return {
        f"gateway/static/{path.relative_to(STATIC).as_posix()}": path.read_bytes()
        for path in directory.rglob("*")
        if path.is_file() and not any(p.startswith(".") for p in path.relative_to(STATIC).parts)
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    built_app()
    tmp_path = tmp_path_factory.mktemp("wheel")
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPOSITORY / name, source / name)
    for package in PACKAGES:
        shutil.copytree(
            REPOSITORY / package,
            source / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", dist, source)
    (found,) = dist.glob("opsgraph-*.whl")
    return found


@pytest.mark.timeout(900)  # pip builds the wheel and installs it; a server starts from it
def test_the_wheel_contains_both_builds(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for directory in (built_app(), STATIC / "graphiql"):
            files = _build_files(directory)
            assert any(name.endswith("/index.html") for name in files), directory
            missing = sorted(set(files) - names)
            assert not missing, f"not in the wheel: {missing}"
            for name, content in files.items():
                assert archive.read(name) == content, name
    assets = [n for n in names if n.startswith("gateway/static/app/assets/")]
    assert any(n.endswith(".js") for n in assets), assets


@pytest.mark.timeout(900)
def test_opsgraph_installed_from_the_wheel_serves_the_app_without_node(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q", wheel)
    site = Path(
        _run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").strip()
    )
    dependencies = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "project-dependencies.pth").write_text("\n".join(sorted(dependencies)) + "\n")
    # from elsewhere than the checkout (`python -c` puts the working directory first on its path)
    where = _run(python, "-c", "import gateway.web; print(gateway.web.STATIC)", cwd=tmp_path)
    imported = where.strip()
    assert Path(imported).is_relative_to(venv), f"gateway imported from {imported}, not the wheel"
    installed_index = Path(imported) / "app" / "index.html"
    assert installed_index.read_text(encoding="utf-8") == (built_app() / "index.html").read_text(
        encoding="utf-8"
    )
    # marks the installed page, so that the server is seen to serve the wheel's files
    index = installed_index.read_text(encoding="utf-8") + "<!-- installed from the wheel -->\n"
    installed_index.write_text(index, encoding="utf-8")

    # nothing on PATH but the new environment: no Node.js, no npm, no checkout's scripts
    env = {
        key: value
        for key, value in server_env(tmp_path).items()
        if not key.startswith("COVERAGE")  # the subprocess measurement is the checkout's
    }
    env["PATH"] = str(venv / "bin")
    with serving(env, opsgraph=str(venv / "bin" / "opsgraph")) as base:
        for path in ("/", "/sites/INFN-T1"):
            page = httpx.get(base + path, timeout=30)
            assert page.status_code == 200, page.text
            assert strip_nonce(page.text) == index
        references = asset_references(index)
        assert references, index
        for asset in references:
            response = httpx.get(base + asset, timeout=30)
            assert response.status_code == 200, asset
            assert response.content == (built_app() / asset.lstrip("/")).read_bytes()
        graphiql = httpx.get(f"{base}/graphql", headers={"accept": "text/html"}, timeout=30)
        assert graphiql.status_code == 200
        assert "/static/graphiql/assets/" in graphiql.text
