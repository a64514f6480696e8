"""The landing page: every face that exists, linked, on the shared layout."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from doorstep import __version__
from doorstep.web.home import FACES


def test_the_landing_page_links_every_face_and_names_the_version(web: TestClient) -> None:
    page = web.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert f"version {__version__}" in page.text
    assert '<link rel="stylesheet" href="/assets/doorstep.css">' in page.text
    for face in FACES:
        assert f"<h2>{face.name}</h2>" in page.text
    links = re.findall(r'<a href="(/[^"]*)">', page.text)
    assert links == [link.href for face in FACES for link in face.links]
    assert {"/docs", "/redoc", "/openapi.json", "/console/login"} <= set(links)


def test_every_link_on_the_landing_page_answers(web: TestClient) -> None:
    for href in (link.href for face in FACES for link in face.links):
        assert web.get(href).status_code == 200, href
