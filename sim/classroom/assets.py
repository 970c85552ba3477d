"""Solara's page assets (Vuetify app, RequireJS, Font Awesome) and ECharts without a CDN.

Solara's server fetches these from cdn.jsdelivr.net on first use and caches them. A
classroom or CI machine may have no route to that CDN but can reach the npm registry, so
before serving we put any missing package into Solara's cache with ``npm pack`` (the
files a CDN would serve are the npm package's files). Without npm nothing changes and
Solara falls back to its CDN.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

ECHARTS_VERSION = "5.4.0"  # the views' charts (chart.py); the version Solara's FigureEcharts uses
PACKAGE_REF = re.compile(r"\{\{cdn\}\}/((?:@[\w.-]+/)?[\w.-]+)@([\w.-]+)/")


def required() -> list[tuple[str, str]]:
    """(npm name, version) of every CDN package the Solara page template loads here."""
    import solara.server.server as server
    from solara.server import settings

    template = Path(server.__file__).parent / "templates" / "solara.html.j2"
    refs = PACKAGE_REF.findall(template.read_text(encoding="utf-8"))
    refs += PACKAGE_REF.findall("{{cdn}}" + settings.assets.fontawesome_path)
    unused = "solara-vuetify-app" if server.vue3 else "solara-vuetify3-app"
    refs.append(("echarts", ECHARTS_VERSION))
    return sorted({(name, ver) for name, ver in refs if not name.endswith(unused)})


def cache_dir() -> Path:
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def missing() -> list[tuple[str, str]]:
    return [(n, v) for n, v in required() if not (cache_dir() / f"{n}@{v}").is_dir()]


def fetch(name: str, version: str, timeout: float = 300) -> None:
    """``npm pack`` one package and unpack its files where Solara's CDN proxy looks."""
    target = cache_dir() / f"{name}@{version}"
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            ["npm", "pack", f"{name}@{version}", "--silent"],
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
        tarball = Path(tmp) / out.stdout.strip().splitlines()[-1]
        unpacked = Path(tmp) / "unpacked"
        with tarfile.open(tarball) as tar:
            tar.extractall(unpacked, filter="data")
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(unpacked / "package", staging)
        staging.rename(target)  # a package is either complete in the cache or absent


def ensure(log=print) -> list[str]:
    """Fetch every missing asset package; returns one line per package that failed."""
    todo = missing()
    if not todo:
        return []
    if shutil.which("npm") is None:
        return [
            f"{n}@{v}: not cached and npm is not installed; Solara will try its CDN"
            for n, v in todo
        ]
    problems = []
    for name, version in todo:
        log(f"fetching page assets {name}@{version} from the npm registry (first run only)...")
        try:
            fetch(name, version)
        except (OSError, subprocess.SubprocessError, tarfile.TarError) as exc:
            problems.append(f"{name}@{version}: could not fetch ({exc}); Solara will try its CDN")
    return problems
