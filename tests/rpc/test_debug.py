"""The debug page: on the RPC port itself and mounted on a gee.web app."""

from __future__ import annotations

import gee.rpc
from gee.rpc.debug import mount, render
from tests.rpc.conftest import Served, closed_by_peer, raw, shut
from tests.rpc.services import Args


async def test_debug_page_on_the_rpc_port(served: Served) -> None:
    async with gee.rpc.Client(served.url) as client:
        for i in range(3):
            await client.call("Arith.Multiply", Args(i, i))
        try:
            await client.call("Arith.Divide", Args(1, 0))
        except gee.rpc.RemoteError:
            pass
    reader, writer = await raw(served.address)
    writer.write(b"GET /debug/geerpc HTTP/1.1\r\nHost: x\r\n\r\n")
    response = (await closed_by_peer(reader)).decode()
    await shut(writer)
    head, _, body = response.partition("\r\n\r\n")
    assert head.startswith("HTTP/1.0 200 OK"), head
    assert "Content-Type: text/html; charset=utf-8" in head
    assert f"Content-Length: {len(body.encode())}" in head
    assert "<h1>GeeRPC Services</h1>" in body
    assert "Arith.Multiply(Args) -&gt; int</td><td>async</td><td>3</td><td>0</td>" in body
    assert "Arith.Divide(Args) -&gt; Quotient</td><td>thread</td><td>1</td><td>1</td>" in body
    assert "Timing.Sleep(Sleep) -&gt; int" in body


async def test_debug_page_mounted_on_gee_web(served: Served) -> None:
    from gee.web import Gee
    from gee.web.testing import TestClient

    app = Gee()
    mount(app, served.server)
    async with TestClient(app) as http:
        response = await http.get("/debug/geerpc")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = render(served.server)
    assert response.text.split("<table>")[1] == page.split("<table>")[1]
