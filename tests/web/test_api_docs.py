"""/docs and /redoc with their scripts and styles from doorstep itself, in the package."""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch
from importlib.resources import files
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
VENDOR = files("doorstep.web").joinpath("static", "vendor")


@pytest.mark.parametrize(
    ("path", "assets"),
    [
        (
            "/docs",
            {
                "/assets/vendor/swagger-ui/swagger-ui-bundle.js": "application/javascript",
                "/assets/vendor/swagger-ui/swagger-ui.css": "text/css",
                "/assets/vendor/swagger-ui/favicon-32x32.png": "image/png",
            },
        ),
        (
            "/redoc",
            {
                "/assets/vendor/redoc/redoc.standalone.js": "application/javascript",
                "/assets/vendor/swagger-ui/favicon-32x32.png": "image/png",
            },
        ),
    ],
)
def test_the_docs_load_only_what_doorstep_serves(
    web: TestClient, path: str, assets: dict[str, str]
) -> None:
    page = web.get(path)
    assert page.status_code == 200
    assert "'/openapi.json'" in page.text or '"/openapi.json"' in page.text
    assert not re.search(r"(?:https?:)?//", page.text)  # no other host, not even a font
    assert set(re.findall(r'(?:src|href)="([^"]+)"', page.text)) == set(assets)
    for url, media_type in assets.items():
        asset = web.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["content-type"].startswith(media_type)
    # The browser may load nothing from another host, whatever the bundles hold.
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "http" not in policy


def test_only_the_listed_assets_are_served(web: TestClient) -> None:
    assert web.get("/assets/vendor/swagger-ui/LICENSE").status_code == 404
    assert web.get("/assets/vendor/../routes.py").status_code == 404


def test_the_vendored_redoc_does_not_fetch_its_logo() -> None:
    # The one local change to the npm file (static/vendor/README.md).
    script = VENDOR.joinpath("redoc", "redoc.standalone.js").read_text(encoding="utf-8")
    assert "cdn.redoc.ly" not in script
    assert 'alt:"redocly logo",onError:()=>t(!1),src:"data:,"' in script


def test_every_vendored_file_has_its_licence_and_ships_in_the_package() -> None:
    for folder in ("swagger-ui", "redoc"):
        assert VENDOR.joinpath(folder, "LICENSE").is_file()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["doorstep"]
    package = ROOT / "src" / "doorstep"
    shipped = [
        path.relative_to(package).as_posix()
        for folder in ("web/static", "web/templates")
        for path in (package / folder).rglob("*")
        if path.is_file()
    ]
    assert shipped
    assert [path for path in shipped if not any(fnmatch(path, g) for g in globs)] == []
