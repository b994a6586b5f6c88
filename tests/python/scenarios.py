"""Interop scenarios: the official python-socketio AsyncClient against a sockeye server.

    python3 python/scenarios.py URL SCENARIO

Exits 0 when the scenario passes. Run by tests/tests/python_client.rs, which starts the
server.
"""

import asyncio
import sys

import socketio

URL, NAME = sys.argv[1], sys.argv[2]


async def client(transports=None, namespaces=None, auth=None):
    c = socketio.AsyncClient(reconnection=False)
    await c.connect(URL, transports=transports, namespaces=namespaces, auth=auth, wait_timeout=5)
    return c


async def events_and_acks(transports):
    c = await client(transports=transports)
    assert c.connected
    assert await c.call("echo", "hi", timeout=5) == "hi"
    assert await c.call("echo", {"a": [1, None, True]}, timeout=5) == {"a": [1, None, True]}
    # Several arguments come back as a tuple.
    assert await c.call("echo", (1, "two"), timeout=5) == (1, "two")
    # Binary.
    assert await c.call("echo", b"\x00\x01\xff", timeout=5) == b"\x00\x01\xff"
    await c.disconnect()


async def scenario_polling():
    await events_and_acks(["polling"])


async def scenario_websocket():
    await events_and_acks(["websocket"])


async def scenario_rooms():
    a = await client()
    b = await client()
    c = await client()
    got = {"a": [], "b": [], "c": []}
    lobby = {k: asyncio.get_running_loop().create_future() for k in got}
    for name, cl in (("a", a), ("b", b), ("c", c)):
        cl.on("chat", (lambda n: lambda m: got[n].append(m))(name))
        cl.on("lobby", (lambda n: lambda m: lobby[n].done() or lobby[n].set_result(m))(name))
    assert await a.call("join", "r", timeout=5) == {"room": "r", "members": 1}
    assert await b.call("join", "r", timeout=5) == {"room": "r", "members": 2}
    assert await a.call("chat", {"room": "r", "text": "hi"}, timeout=5) == {"ok": True}
    await b.emit("leave", "r")
    for k in lobby:
        assert await asyncio.wait_for(lobby[k], 5) == "User left"
    expected = {"room": "r", "from": a.get_sid("/"), "text": "hi"}
    assert got["a"] == [expected], got
    assert got["b"] == [expected], got
    assert got["c"] == [], got
    for cl in (a, b, c):
        await cl.disconnect()


async def scenario_server_ack_and_auth():
    c = await client(namespaces=["/test"])
    c.on("question", lambda q: "py-" + q, namespace="/test")
    assert await c.call("ask", namespace="/test", timeout=5) == "py-q?"
    await c.disconnect()
    ok = await client(namespaces=["/auth"], auth={"token": "secret"})
    await ok.disconnect()
    bad = socketio.AsyncClient(reconnection=False)
    errors = []
    bad.on("connect_error", errors.append, namespace="/auth")
    try:
        await bad.connect(URL, namespaces=["/auth"], auth={"token": "nope"}, wait_timeout=5)
    except socketio.exceptions.ConnectionError:
        pass
    else:
        raise AssertionError("a bad token was accepted")
    assert errors == [{"message": "not authorized", "data": {"code": 42}}], errors


SCENARIOS = {
    "polling": scenario_polling,
    "websocket": scenario_websocket,
    "rooms": scenario_rooms,
    "server_ack_and_auth": scenario_server_ack_and_auth,
}


async def main():
    await asyncio.wait_for(SCENARIOS[NAME](), 15)
    print(f"scenario {NAME}: ok")


if __name__ == "__main__":
    asyncio.run(main())
