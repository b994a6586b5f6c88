"""python-socketio's Redis or AMQP managers against Sockeye nodes on the same broker.

    python3 python/cluster_workers.py BROKER_URL SCENARIO SOCKEYE_URL...

BROKER_URL `redis://...`: python-socketio's Redis managers (`RedisManager`,
`AsyncRedisManager`); run by tests/tests/cluster_python.rs, which starts Redis and the
Sockeye node(s) (with the Redis adapter and python-socketio's channel `socketio`).
BROKER_URL `amqp://...` (kombu style, `amqp://guest:guest@127.0.0.1:PORT//`): its AMQP
managers (`KombuManager`, `AsyncAioPikaManager`, exchange `socketio`); the Rust test starts
RabbitMQ and the Sockeye node(s) with the AMQP adapter.
Exits 0 when the scenario passes. The clients are python-socketio `AsyncClient`s on the
Sockeye nodes. Every wait has a deadline.

Readiness: with Redis, `PUBSUB NUMSUB socketio` counts the listening nodes. AMQP has no
such count without the management plugin, so once the clients are connected the script
broadcasts `ready` until every client named got one (each node has bound its queue).

Scenarios:
- `snippet`: the README's snippet (`tests/python/cluster_snippet.py`, with AMQP
  `tests/python/cluster_snippet_amqp.py`, run as is in its own process, only the URL
  replaced) reaches a client in `my room` and no other client;
- `async_manager`: `AsyncRedisManager(url, write_only=True)` (AMQP:
  `AsyncAioPikaManager(url, write_only=True)`): the same emit, `skip_sid`,
  several arguments, no argument, binary, several rooms, a socket's own room, everyone,
  `enter_room`, `leave_room`, `close_room`, and a disconnect (`can_disconnect`, what a
  server does for a socket on another host);
- `kombu_manager` (AMQP only): the same as `async_manager` through the synchronous
  `KombuManager(url, write_only=True)` (each call in a worker thread; the disconnect is
  published with its `_publish`, as the asyncio managers' `can_disconnect` does: its own
  `can_disconnect` needs a server);
- `kombu_listener` (AMQP only): a listening `KombuManager` survives Sockeye's own
  messages on the exchange (see its docstring);
- `namespaces`: emits to the same room name in `/` and `/test` reach their own namespace;
- `mixed`: a python-socketio `AsyncServer(client_manager=AsyncRedisManager(url))` (AMQP:
  `AsyncAioPikaManager(url)`; aiohttp, free port) and two Sockeye nodes exchange room broadcasts both ways, each delivered once.
  Prints `READY` when every client sits in its room and every node listens on `socketio`;
  the Rust test then emits from Sockeye node 1 (`io.to("R").emit(..)` and the broadcasts
  python's format cannot carry) and prints nothing back: this script checks what arrived;
  the python server's `call` to a client of a Sockeye node gets that client's ack.
"""

import asyncio
import functools
import os
import subprocess
import sys

import socketio

REDIS_URL, SCENARIO = sys.argv[1], sys.argv[2]
SOCKEYE = sys.argv[3:]
# An amqp:// URL selects python-socketio's AMQP managers (REDIS_URL is then RabbitMQ's).
AMQP = REDIS_URL.startswith('amqp://')
if not AMQP:
    import redis.asyncio as aioredis
HERE = os.path.dirname(os.path.abspath(__file__))
# How long any single wait may take.
WAIT = 10


def log(*args):
    print(*args, file=sys.stderr, flush=True)


class Client:
    """An AsyncClient that records every event it gets (the catch-all handler)."""

    def __init__(self, name):
        self.name = name
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events = {}
        self.changed = asyncio.Event()
        self.gone = asyncio.Event()

        def recorder(prefix):
            async def any_event(event, *args):
                self.events.setdefault(prefix + event, []).append(args)
                self.changed.set()
            return any_event

        # Events of `/` under their name, those of `/test` as `/test NAME`.
        self.sio.on('*', recorder(''))
        self.sio.on('*', recorder('/test '), namespace='/test')

        async def disconnected(*_):
            self.gone.set()

        # Answered: a python server's `call` (an emit with a callback) gets this back.
        async def question(data):
            return {'answer': data, 'from': self.name}

        self.sio.on('question', question)

        self.sio.on('disconnect', disconnected)

    async def connect(self, url, namespaces=('/',)):
        await self.sio.connect(url, namespaces=list(namespaces), wait_timeout=WAIT)
        return self

    def sid(self, namespace='/'):
        return self.sio.get_sid(namespace)

    async def join(self, room, namespace='/'):
        ack = await self.sio.call('join', room, namespace=namespace, timeout=WAIT)
        if namespace == '/':
            assert ack['room'] == room, ack
        else:
            assert ack is True, ack

    def got(self, event):
        return self.events.get(event, [])

    async def wait(self, event, count=1):
        """Waits until `event` arrived `count` times; returns its argument tuples."""
        deadline = asyncio.get_running_loop().time() + WAIT
        while len(self.got(event)) < count:
            left = deadline - asyncio.get_running_loop().time()
            assert left > 0, f'{self.name}: {event!r} x{count} not received; got {self.events}'
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except asyncio.TimeoutError:
                pass
        return self.got(event)


def write_manager():
    """The asyncio write-only manager of the broker: Redis or AMQP (aio-pika)."""
    if AMQP:
        return socketio.AsyncAioPikaManager(REDIS_URL, write_only=True)
    return socketio.AsyncRedisManager(REDIS_URL, write_only=True)


def server_manager():
    """The asyncio manager of a python-socketio server on the broker."""
    if AMQP:
        return socketio.AsyncAioPikaManager(REDIS_URL)
    return socketio.AsyncRedisManager(REDIS_URL)


class InThreads:
    """A synchronous manager (`KombuManager`) with the asyncio manager's interface: each
    call runs in a worker thread."""

    def __init__(self, manager):
        self.manager = manager

    def __getattr__(self, name):
        method = getattr(self.manager, name)

        async def call(*args, **kwargs):
            return await asyncio.get_running_loop().run_in_executor(
                None, functools.partial(method, *args, **kwargs))
        return call

    async def can_disconnect(self, sid, namespace):
        """What the asyncio managers' can_disconnect publishes for a socket elsewhere. The
        synchronous one (python-socketio 5.18) first handles the message itself, through its
        server: a write-only instance has none (AttributeError)."""
        message = {'method': 'disconnect', 'sid': sid, 'namespace': namespace or '/',
                   'host_id': self.manager.host_id}
        await asyncio.get_running_loop().run_in_executor(
            None, self.manager._publish, message)


async def amqp_ready(*clients):
    """AMQP: broadcasts `ready` on `/` until each of `clients` got one (its node has bound
    its queue to the exchange). Nothing to do with Redis: see wait_listeners."""
    if not AMQP:
        return
    m = write_manager()
    deadline = asyncio.get_running_loop().time() + WAIT
    while not all(c.got('ready') for c in clients):
        assert asyncio.get_running_loop().time() < deadline, \
            [(c.name, bool(c.got('ready'))) for c in clients]
        await m.emit('ready', data=None)
        await asyncio.sleep(0.1)


async def wait_listeners(count):
    """Waits until `count` connections listen on channel `socketio` (Redis; with AMQP,
    amqp_ready does it once the clients are connected)."""
    if AMQP:
        return
    r = aioredis.from_url(REDIS_URL)
    try:
        deadline = asyncio.get_running_loop().time() + WAIT
        while True:
            [(_, n)] = await r.pubsub_numsub('socketio')
            if n >= count:
                return
            assert asyncio.get_running_loop().time() < deadline, f'{n} of {count} listen'
            await asyncio.sleep(0.05)
    finally:
        await r.aclose()


async def flush(manager, *clients):
    """Every message published before this one has been handled: a broadcast `flush` to
    every client of `/`, received by all. (A Sockeye node handles python-socketio's
    messages in the order they come.)"""
    n = {c: len(c.got('flush')) for c in clients}
    await manager.emit('flush', data=None)
    for c in clients:
        await c.wait('flush', n[c] + 1)


def run_snippet():
    """The README's snippet in a process of its own, with only the URL changed."""
    name, url = ('cluster_snippet_amqp.py', "'amqp://guest:guest@127.0.0.1:5672//'") if AMQP \
        else ('cluster_snippet.py', "'redis://'")
    with open(os.path.join(HERE, name)) as f:
        snippet = f.read()
    assert snippet.count(url) == 1, snippet
    code = snippet.replace(url, repr(REDIS_URL))
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stderr


async def scenario_snippet():
    [url] = SOCKEYE
    await wait_listeners(1)
    inside = await Client('inside').connect(url)
    outside = await Client('outside').connect(url)
    await inside.join('my room')
    await outside.join('another room')
    await amqp_ready(inside, outside)
    await asyncio.get_running_loop().run_in_executor(None, run_snippet)
    assert await inside.wait('my event') == [({'foo': 'bar'},)]
    manager = write_manager()
    await flush(manager, inside, outside)
    assert inside.got('my event') == [({'foo': 'bar'},)], inside.events
    assert outside.got('my event') == [], outside.events
    for c in (inside, outside):
        await c.sio.disconnect()


async def scenario_async_manager():
    await manager_operations(write_manager())


async def scenario_kombu_manager():
    assert AMQP, 'kombu_manager needs an amqp:// URL'
    await manager_operations(InThreads(socketio.KombuManager(REDIS_URL, write_only=True)))


async def manager_operations(m):
    """Emits and room operations through the write-only manager `m` (asyncio interface)."""
    [url] = SOCKEYE
    await wait_listeners(1)
    a = await Client('a').connect(url)
    b = await Client('b').connect(url)
    c = await Client('c').connect(url)
    everyone = (a, b, c)
    await a.join('my room')
    await c.join('my room')
    await b.join('room b')
    await amqp_ready(*everyone)

    # The snippet, with the asyncio manager.
    await m.emit('my event', data={'foo': 'bar'}, room='my room')
    # skip_sid: one socket of the room is left out.
    await m.emit('skipped', data='x', room='my room', skip_sid=a.sid())
    # Several arguments (a tuple), no argument, binary (alone and nested).
    await m.emit('multi', data=(1, 'two', {'three': [3]}), room='room b')
    await m.emit('none', data=None, room='room b')
    await m.emit('bin', data=b'\x00\x01\xff', room='room b')
    await m.emit('bin nested', data={'file': b'\x02' * 3, 'n': 1}, room='room b')
    # Several rooms at once; a socket's own room (its sid); no room: everyone on `/`.
    await m.emit('two rooms', data=2, room=['my room', 'room b'])
    await m.emit('private', data='psst', to=b.sid())
    await m.emit('all', data='hi')
    await flush(m, *everyone)

    assert [e.got('my event') for e in everyone] == [[({'foo': 'bar'},)], [], [({'foo': 'bar'},)]], \
        [e.events for e in everyone]
    assert [e.got('skipped') for e in everyone] == [[], [], [('x',)]]
    assert b.got('multi') == [(1, 'two', {'three': [3]})], b.events
    assert b.got('none') == [()], b.events
    assert b.got('bin') == [(b'\x00\x01\xff',)], b.events
    assert b.got('bin nested') == [({'file': b'\x02\x02\x02', 'n': 1},)], b.events
    for e in (a, c):
        for ev in ('multi', 'none', 'bin', 'bin nested', 'private'):
            assert e.got(ev) == [], (e.name, e.events)
    assert [e.got('two rooms') for e in everyone] == [[(2,)]] * 3
    assert b.got('private') == [('psst',)]
    assert [e.got('all') for e in everyone] == [[('hi',)]] * 3

    # enter_room for a socket of the Sockeye node, and an emit to that room right after.
    await m.enter_room(a.sid(), '/', 'late room')
    await m.emit('late', data=1, room='late room')
    # leave_room, then an emit to the room left.
    await m.leave_room(c.sid(), '/', 'my room')
    await m.emit('after leave', data=2, room='my room')
    await flush(m, *everyone)
    assert [e.got('late') for e in everyone] == [[(1,)], [], []], [e.events for e in everyone]
    assert [e.got('after leave') for e in everyone] == [[(2,)], [], []]

    # close_room: nobody is in the room any more.
    await m.close_room('my room', '/')
    await m.emit('after close', data=3, room='my room')
    await m.emit('still in late room', data=4, room='late room')
    await flush(m, *everyone)
    assert [e.got('after close') for e in everyone] == [[], [], []], [e.events for e in everyone]
    assert a.got('still in late room') == [(4,)]

    # A disconnect for a socket on another host (what a python server publishes).
    await m.can_disconnect(c.sid(), '/')
    await asyncio.wait_for(c.gone.wait(), WAIT)
    assert a.sio.connected and b.sio.connected
    for e in (a, b):
        await e.sio.disconnect()


async def scenario_namespaces():
    """Emits to a room of `/` and to the same room of `/test` (a node with several
    namespaces): each reaches the sockets of its namespace only."""
    [url] = SOCKEYE
    await wait_listeners(1)
    a = await Client('a').connect(url, namespaces=['/', '/test'])
    b = await Client('b').connect(url, namespaces=['/', '/test'])
    await a.join('my room')
    await b.join('my room', namespace='/test')
    await amqp_ready(a, b)
    m = write_manager()
    await m.emit('my event', data={'ns': '/'}, room='my room')
    await m.emit('my event', data={'ns': '/test'}, room='my room', namespace='/test')
    await a.wait('my event')
    await b.wait('/test my event')
    await flush(m, a, b)
    assert a.events.get('my event') == [({'ns': '/'},)], a.events
    assert b.events.get('/test my event') == [({'ns': '/test'},)], b.events
    assert a.got('/test my event') == [] and b.got('my event') == [], (a.events, b.events)
    for e in (a, b):
        await e.sio.disconnect()


async def start_python_server():
    """A python-socketio server on a free port, sharing the cluster through the broker."""
    from aiohttp import web

    sio = socketio.AsyncServer(async_mode='aiohttp', client_manager=server_manager())

    @sio.on('join')
    async def join(sid, room):
        await sio.enter_room(sid, room)
        return {'room': room}

    @sio.on('py emit')
    async def py_emit(sid, args):
        await sio.emit(args['event'], args['data'], room=args['room'])
        return True

    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, '127.0.0.1', 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return sio, runner, f'http://{host}:{port}'


async def scenario_mixed():
    node1, node2 = SOCKEYE
    sio, runner, py_url = await start_python_server()
    try:
        a = await Client('python server, in R').connect(py_url)
        o = await Client('python server, not in R').connect(py_url)
        b1 = await Client('node 1, in R').connect(node1)
        b2 = await Client('node 2, in R').connect(node2)
        o2 = await Client('node 2, not in R').connect(node2)
        in_r = (a, b1, b2)
        everyone = (a, o, b1, b2, o2)
        for cl in in_r:
            await cl.join('R')
        await o.join('elsewhere')
        await o2.join('elsewhere')
        # The python server subscribes on its first connection; both Sockeye nodes too.
        await wait_listeners(3)
        await amqp_ready(a, b1, b2)
        print('READY', flush=True)

        # Sockeye -> everyone in R: the Rust test's io.to("R").emit("from sockeye", ..).
        for cl in in_r:
            assert await cl.wait('from sockeye') == [({'n': 1, 'bin': b'\x01\x02'},)], \
                (cl.name, cl.events)
        # ... then its broadcasts python's format cannot carry (node 2 gets them in Node's
        # format), then `done`: all came in order on node 1's one publisher connection.
        for cl in in_r:
            await cl.wait('done')
        for cl in (b1, b2):
            assert cl.got('excepting') == [('x',)], (cl.name, cl.events)
            assert cl.got('two rooms') == [('y',)], (cl.name, cl.events)
        assert a.got('excepting') == [] and a.got('two rooms') == [], a.events

        # Sockeye -> python through the demo contract: `chat` goes to the room (sender
        # included) with `socket.within(room).emit(..)`.
        assert await b2.sio.call('chat', {'room': 'R', 'text': 'hi from node 2'},
                                 timeout=WAIT) == {'ok': True}
        expected = {'room': 'R', 'from': b2.sid(), 'text': 'hi from node 2'}
        for cl in in_r:
            assert await cl.wait('chat') == [(expected,)], (cl.name, cl.events)

        # Python -> Sockeye: the python server emits to R (binary too).
        assert await a.sio.call('py emit', {'event': 'from python', 'room': 'R',
                                            'data': {'n': 2, 'bin': b'\x03'}},
                                timeout=WAIT) is True
        for cl in in_r:
            assert await cl.wait('from python') == [({'n': 2, 'bin': b'\x03'},)], \
                (cl.name, cl.events)

        # Python -> a client of a Sockeye node, with a callback: the client's ack comes back
        # to the python server through the broker (python-socketio's `callback` message).
        answer = await sio.call('question', 42, to=b1.sid(), timeout=WAIT)
        assert answer == {'answer': 42, 'from': b1.name}, answer

        # No duplicates: a last broadcast from each side, then the counts.
        flusher = write_manager()
        await flush(flusher, *everyone)
        assert await b1.sio.call('chat', {'room': 'R', 'text': 'last'}, timeout=WAIT)
        for cl in in_r:
            await cl.wait('chat', 2)
        await flush(flusher, *everyone)
        for cl in in_r:
            assert len(cl.got('from sockeye')) == 1, (cl.name, cl.events)
            assert len(cl.got('from python')) == 1, (cl.name, cl.events)
            assert [m[0]['text'] for m in cl.got('chat')] == ['hi from node 2', 'last'], \
                (cl.name, cl.events)
            assert len(cl.got('done')) == 1, (cl.name, cl.events)
        for cl in (o, o2):
            for ev in ('from sockeye', 'from python', 'chat', 'excepting', 'two rooms', 'done'):
                assert cl.got(ev) == [], (cl.name, cl.events)
        for cl in everyone:
            await cl.sio.disconnect()
    finally:
        await runner.cleanup()


async def scenario_kombu_listener():
    """AMQP only: a *listening* `KombuManager` (a python-socketio `Server`'s) survives
    whatever Sockeye nodes put on the exchange. Kombu decodes bodies by their properties,
    and a body it cannot decode makes its listener raise, reconnect on a new queue and
    lose messages: Sockeye's own messages must be handed over undecoded and ignored.
    Prints `READY` once the listener gets messages; the Rust test then makes a Sockeye node
    publish its own messages (native broadcasts, binary, requests, heartbeats), then a
    write-only manager emits `done`: it must reach this listener, which must have logged
    no error."""
    import logging
    import queue

    handled = queue.Queue()
    errors = []

    class Errors(logging.Handler):
        def emit(self, record):
            if record.levelno >= logging.ERROR:
                errors.append(record.getMessage())

    logger = logging.getLogger('kombu-listener')
    logger.addHandler(Errors())
    logger.setLevel(logging.INFO)

    class Recording(socketio.KombuManager):
        def _handle_emit(self, message):
            handled.put(message['event'])
            super()._handle_emit(message)

    sio = socketio.Server(async_mode='threading', logger=logger,
                          client_manager=Recording(REDIS_URL, logger=logger))
    sio.manager.initialize()  # starts its listening thread
    probe = socketio.KombuManager(REDIS_URL, write_only=True)
    loop = asyncio.get_running_loop()

    async def seen(event, within):
        deadline = loop.time() + within
        while loop.time() < deadline:
            try:
                got = await loop.run_in_executor(None, handled.get, True, 0.2)
            except queue.Empty:
                continue
            if got == event:
                return True
        return False

    # Its queue is bound once its own probe comes back.
    for _ in range(50):
        await loop.run_in_executor(None, functools.partial(probe.emit, 'probe', data=1))
        if await seen('probe', 0.3):
            break
    else:
        raise AssertionError(f'the kombu listener never got a message; errors: {errors}')
    print('READY', flush=True)
    # The Rust side publishes, then answers with a line on stdin when it is done.
    await loop.run_in_executor(None, sys.stdin.readline)
    await loop.run_in_executor(None, functools.partial(probe.emit, 'done', data=2))
    assert await seen('done', WAIT), f'`done` lost; listener errors: {errors}'
    assert errors == [], errors


async def main():
    await asyncio.wait_for(globals()['scenario_' + SCENARIO](), 60)
    log(SCENARIO, 'ok')


if __name__ == '__main__':
    asyncio.run(main())
