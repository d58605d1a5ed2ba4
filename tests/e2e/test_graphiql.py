"""GraphiQL from the package's own assets, offline, under its CSP; and who may introspect."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import tempfile
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.auth.dev_issuer import DevIssuer
from gateway.graphiql import CONTENT_SECURITY_POLICY
from gateway.settings import load_settings
from tests.e2e.browser import find_chromium, headless
from tests.e2e.server import running_server, serving

ROOT = Path(__file__).resolve().parents[2]
INTROSPECT = "{ __schema { queryType { name } } }"
# the page's own hooks run before its scripts: they are the test's eyes, not part of the page
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def readme_example() -> str:
    """The query under the README's "Example query" heading, as a reader would copy it."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"## Example query\s+```graphql\n(.*?)```", text, re.S)
    assert found, "the README lost its example query"
    return found.group(1)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, DevIssuer]]:
    """`fir serve --demo` as `make run` configures it: development tokens, GraphiQL, introspection for all."""
    with tempfile.TemporaryDirectory(prefix="fir-graphiql-") as tmp:
        os.chmod(tmp, 0o755)
        env = {"FIR_DEV_AUTH": "1", "FIR_GRAPHIQL": "1", "FIR_INTROSPECTION": "all"}
        with serving(Path(tmp), "--demo", **env) as (_proc, base):
            port = int(base.rsplit(":", 1)[1])
            settings = dataclasses.replace(load_settings(None), data_dir=Path(tmp), port=port, dev_auth=True)
            yield base, DevIssuer(settings)


def test_the_page_sends_a_strict_csp_and_loads_only_its_own_assets(server: tuple[str, DevIssuer]) -> None:
    base, _ = server
    with httpx.Client(base_url=base, timeout=10) as client:
        page = client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200
        assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "unsafe" not in CONTENT_SECURITY_POLICY
        assert not re.search(r"<script(?![^>]*\bsrc=)", page.text), "an inline script would break the CSP"
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sources and all(s.startswith("/graphiql/") or s == "data:," for s in sources)
        for source in sources:
            if source.startswith("/"):
                assert client.get(source).status_code == 200, source


async def test_graphiql_renders_offline_and_runs_the_readme_example(server: tuple[str, DevIssuer]) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("no chromium on this machine (.ci/run installs Debian's package when it runs as root)")
    base, issuer = server
    # exactly what `make run` prints for the supplier, pasted into the Headers pane
    headers = json.dumps({"Authorization": f"Bearer {issuer.mint('fir:read', None, 'demo-supplier')}"})
    fragment = urllib.parse.urlencode(
        {"query": readme_example(), "headers": headers}, quote_via=urllib.parse.quote
    )
    async with headless(chromium) as page:
        await page.send("Page.enable")
        await page.send("Network.enable")
        await page.send("Page.addScriptToEvaluateOnNewDocument", source=WATCH)
        await page.send("Page.navigate", url=f"{base}/graphql#{fragment}")
        await page.wait_for(
            "!!document.querySelector('.graphiql-container .graphiql-query-editor .CodeMirror')"
        )
        editor = "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()"
        assert "onCpl" in await page.evaluate(editor)
        await page.wait_for("!!document.querySelector('.graphiql-execute-button')")
        await page.evaluate("document.querySelector('.graphiql-execute-button').click()")
        result = "document.querySelector('.result-window .CodeMirror')?.CodeMirror.getValue() || ''"
        text = await page.wait_for(f"({result}).includes('onCpl') && {result}")
        answer = json.loads(text)
        assert "errors" not in answer, answer
        device = answer["data"]["device"]
        assert device["onCpl"] is True and device["isLatest"] is False
        assert len(device["upgradePath"]) == 3 and device["contacts"], (
            "the token's fir:read reached the server"
        )
        assert await page.evaluate("window.__violations") == []
        urls = page.requested_urls()
        assert urls and all(u.startswith(base) or u.startswith("data:") for u in urls), urls


def test_introspection_policy(db_url: str, tmp_path: Path) -> None:
    """authenticated (the default): a token may introspect, anonymous may not; off: nobody."""
    for mode, anonymous, authenticated in (("authenticated", False, True), ("off", False, False)):
        env = {"FIR_DEV_AUTH": "1"} | ({} if mode == "authenticated" else {"FIR_INTROSPECTION": mode})
        with running_server(db_url, tmp_path / mode, **env) as base:
            port = int(base.rsplit(":", 1)[1])
            settings = dataclasses.replace(
                load_settings(None), data_dir=tmp_path / mode, port=port, dev_auth=True
            )
            token = DevIssuer(settings).mint("fir:read", None, "introspector")
            with httpx.Client(base_url=base, timeout=10) as client:
                for bearer, allowed in ((None, anonymous), (token, authenticated)):
                    headers = {"authorization": f"Bearer {bearer}"} if bearer else {}
                    body = client.post("/graphql", json={"query": INTROSPECT}, headers=headers).json()
                    if allowed:
                        assert body["data"]["__schema"]["queryType"]["name"] == "Query", (mode, body)
                    else:
                        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], (
                            mode,
                            body,
                        )
                assert client.post("/graphql", json={"query": "{ __typename }"}).json() == {
                    "data": {"__typename": "Query"}
                }
                # FIR_GRAPHIQL defaults to off: no page, no assets
                assert client.get("/graphql", headers={"accept": "text/html"}).status_code == 404
                assert client.get("/graphiql/fir-graphiql.js").status_code == 404
