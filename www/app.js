// The Sockeye demo page: a chat over the demo event contract (README, "Demo event
// contract"), using the wasm client `sockeye-client` (served at ./pkg/, built from
// wasm-client/ by scripts/build-www.sh).
//
// Query parameters: `transports=polling` | `websocket` | `polling,websocket` (the default),
// `name=…` (connects at once with that name).
import { io } from './pkg/index.js';

const $ = (sel) => document.querySelector(sel);
const params = new URLSearchParams(location.search);
const transports = (params.get('transports') || '')
  .split(',').map((t) => t.trim()).filter((t) => t === 'polling' || t === 'websocket');
// The events the chat itself handles; any other event goes to the "Server events" panel.
const HANDLED = new Set(['chat', 'joined', 'left', 'lobby']);

let socket;
let myName = '';
let active = null; // the room shown in the chat panel
/** room -> { members, unread, items: [{ kind, ... }] } */
const rooms = new Map();

$('#transports-hint').textContent = transports.length ? transports.join(', ') : 'polling, then websocket';

// ------------------------------------------------------------------------------ helpers

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

const clock = () => new Date().toTimeString().slice(0, 8);
const shortId = (id) => `#${String(id).slice(0, 6)}`;

function hue(s) {
  let h = 0;
  for (const ch of String(s)) h = (h * 31 + ch.charCodeAt(0)) % 360;
  return h;
}

/** Appends to a feed (lobby, server events), newest last, keeping the last 50. */
function feed(list, ...children) {
  list.append(el('li', {}, el('time', {}, clock()), ...children));
  while (list.children.length > 50) list.firstElementChild.remove();
  list.scrollTop = list.scrollHeight;
}

// ------------------------------------------------------------------------------ status bar

function setStatus(state, text) {
  const s = $('#status');
  s.dataset.state = state;
  s.textContent = text;
  document.body.dataset.state = state;
  $('#banner').hidden = state !== 'reconnecting';
  const up = state === 'connected';
  if (!up) {
    $('#latency').textContent = '–';
  }
  $('#transport').textContent = up ? socket.io.transport || '–' : '–';
  $('#sid').textContent = up ? socket.id : '–';
}

async function measureLatency() {
  if (!socket || !socket.connected) return;
  const t0 = performance.now();
  try {
    await socket.timeout(5000).emitWithAck('echo', 'ping');
    $('#latency').textContent = `${Math.max(0, performance.now() - t0).toFixed(1)} ms`;
  } catch {
    if (socket.connected) $('#latency').textContent = 'timeout';
  }
}

// ------------------------------------------------------------------------------ rooms

function renderRooms() {
  const list = $('#rooms');
  list.replaceChildren(...[...rooms].map(([name, r]) => el('li',
    { class: name === active ? 'room active' : 'room', 'data-room': name },
    el('button', { class: 'room-name', type: 'button', title: `show ${name}`, onclick: () => show(name) },
      el('span', { class: 'label' }, name),
      el('span', { class: 'count' }, r.members == null ? 'joining…'
        : `${r.members} ${r.members === 1 ? 'member' : 'members'}`)),
    r.unread ? el('span', { class: 'unread', title: 'unread messages' }, String(r.unread)) : null,
    el('button', { class: 'leave', type: 'button', title: `leave ${name}`, onclick: () => leave(name) }, 'Leave'),
  )));
  $('#rooms-empty').hidden = rooms.size > 0;
}

function show(name) {
  active = name;
  if (rooms.has(name)) rooms.get(name).unread = 0;
  renderRooms();
  renderMessages();
}

function join(name, focus = true) {
  if (!rooms.has(name)) rooms.set(name, { members: null, unread: 0, items: [] });
  rooms.get(name).members = null; // until the ack counts them
  if (focus) {
    show(name);
    $('#message').focus();
  } else renderRooms();
  socket.emit('join', name, (res) => {
    const r = rooms.get(name);
    if (!r) return;
    if (res && res.error) {
      addItem(name, { kind: 'note', text: `could not join: ${res.error}`, time: clock() });
    }
    r.members = res && typeof res.members === 'number' ? res.members : r.members;
    renderRooms();
  });
}

function leave(name) {
  socket.emit('leave', name);
  rooms.delete(name);
  if (active === name) active = rooms.keys().next().value ?? null;
  renderRooms();
  renderMessages();
}

// ------------------------------------------------------------------------------ messages

function addItem(room, item) {
  const r = rooms.get(room);
  if (!r) return;
  r.items.push(item);
  if (r.items.length > 200) r.items.shift();
  if (room === active) renderMessages();
  else if (item.kind === 'msg') { r.unread += 1; renderRooms(); }
}

function renderItem(item) {
  if (item.kind === 'note') return el('li', { class: 'note' }, el('time', {}, item.time), ` ${item.text}`);
  const who = item.mine ? myName : (item.name || shortId(item.from));
  const li = el('li', { class: item.mine ? 'msg mine' : 'msg', 'data-from': item.from || '' },
    el('div', { class: 'meta' },
      el('b', { class: 'who', style: `color: hsl(${hue(who)} 55% 38%)` }, who),
      el('time', {}, item.time)),
    el('div', { class: 'text' }, item.text));
  if (item.mine) {
    li.dataset.acked = String(item.acked);
    if (item.failed) li.dataset.failed = 'true';
    const [mark, title] = item.acked ? ['✓', 'delivered (ack received)']
      : item.failed ? ['!', `not delivered: ${item.failed}`] : ['…', 'sending…'];
    li.append(el('span', { class: 'tick', title }, mark));
  }
  return li;
}

function renderMessages() {
  const list = $('#messages');
  const r = active && rooms.get(active);
  $('#chat-title').textContent = r ? `# ${active}` : 'Chat';
  list.replaceChildren(...(r ? r.items.map(renderItem) : []));
  list.scrollTop = list.scrollHeight;
  $('#chat-empty').hidden = Boolean(r);
  $('#message').disabled = !r;
  $('#message').placeholder = r ? `Message #${active} as ${myName}` : 'Message';
  $('#send').disabled = !r;
}

function send(text) {
  const room = active;
  const item = { kind: 'msg', mine: true, from: socket.id, text, time: clock(), acked: false };
  addItem(room, item);
  // `name` is extra: the demo server relays `room`, `from` and `text` only.
  socket.timeout(20000).emit('chat', { room, text, name: myName }, (err) => {
    if (err) item.failed = err.message || String(err);
    else item.acked = true;
    if (room === active) renderMessages();
  });
}

// ------------------------------------------------------------------------------ connection

function start(name) {
  myName = name;
  $('#me').textContent = name;
  $('#login').hidden = true;
  $('#app').hidden = false;
  setStatus('connecting', 'connecting…');

  const opts = { auth: { name } };
  if (transports.length) opts.transports = transports;
  socket = io(opts);
  window.demoSocket = socket; // for the console

  socket.on('connect', () => {
    setStatus('connected', 'connected');
    measureLatency();
    // A new session after a reconnection: the server forgot our rooms (unless it recovered
    // the session: connection state recovery restores them).
    if (socket.recovered) return;
    for (const room of rooms.keys()) {
      addItem(room, { kind: 'note', text: 'reconnected: joined again', time: clock() });
      join(room, false);
    }
  });
  socket.io.on('upgrade', () => { $('#transport').textContent = socket.io.transport; });
  socket.on('disconnect', (reason) => {
    if (reason === 'io client disconnect') setStatus('disconnected', 'disconnected');
    // Not retried automatically (socket.io-client's rule): reload the page to come back.
    else if (reason === 'io server disconnect') setStatus('disconnected', 'disconnected by the server');
    else setStatus('reconnecting', 'reconnecting…');
  });
  socket.io.on('reconnect_attempt', (n) => setStatus('reconnecting', `reconnecting… (attempt ${n})`));
  socket.io.on('reconnect_failed', () => setStatus('disconnected', 'gave up reconnecting'));
  socket.on('connect_error', () => {
    if ($('#status').dataset.state === 'connecting') setStatus('connecting', 'connecting… (retrying)');
  });

  socket.on('chat', (m) => {
    if (!m || m.from === socket.id) return; // ours: shown when sent, ticked by the ack
    addItem(m.room, { kind: 'msg', mine: false, from: m.from, name: m.name, text: String(m.text), time: clock() });
  });
  socket.on('joined', ({ id, room } = {}) => {
    const r = rooms.get(room);
    if (!r) return;
    if (typeof r.members === 'number') r.members += 1;
    renderRooms();
    addItem(room, { kind: 'note', text: `${shortId(id)} joined`, time: clock() });
  });
  socket.on('left', ({ id, room } = {}) => {
    const r = rooms.get(room);
    if (!r || id === socket.id) return;
    if (typeof r.members === 'number') r.members = Math.max(1, r.members - 1);
    renderRooms();
    addItem(room, { kind: 'note', text: `${shortId(id)} left`, time: clock() });
  });
  socket.on('lobby', (text) => feed($('#lobby'), ` ${String(text)}`));
  socket.onAny((event, ...args) => {
    if (HANDLED.has(event)) return;
    feed($('#events'), ' ', el('code', {}, event), ' ',
      el('span', { class: 'mono' }, args.map((a) => JSON.stringify(a)).join(', ')));
  });

  setInterval(measureLatency, 2000);
  renderRooms();
  renderMessages();
}

$('#login').addEventListener('submit', (e) => {
  e.preventDefault();
  const name = $('#name').value.trim();
  if (name) start(name);
});
$('#join-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const name = $('#room-input').value.trim();
  if (name) join(name);
});
$('#send-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('#message').value.trim();
  if (!text || !active) return;
  $('#message').value = '';
  send(text);
});

document.body.dataset.ready = 'true';
if (params.get('name')) start(params.get('name'));
