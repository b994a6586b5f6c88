// What the Node build uses where a browser has globals (esbuild --inject: the bundle's free
// references to `WebSocket` and `crypto` become these; Node's own globals are left alone).
// Node 18-21 have no WebSocket: the `ws` package (as engine.io-client uses in Node). Polling
// uses Node's global fetch (18+).
import WS from 'ws';
import { webcrypto } from 'node:crypto';

/** A browser-like WebSocket over `ws`. */
class NodeWebSocket extends WS {
  constructor(url, protocols) {
    super(url, protocols);
    // A browser reports a failed connection with `error` then `close`; `ws` throws an
    // `error` nobody listens to. The `close` that follows is what the client acts on.
    this.on('error', () => {});
  }

  send(data) {
    // The wasm hands a view of its memory: copy it now, as a browser does (`ws` may read it
    // later, e.g. when compressing).
    super.send(ArrayBuffer.isView(data) ? data.slice() : data);
  }
}

export { NodeWebSocket as WebSocket };
// Node 18 has no global `crypto` (19+ does).
const nodeCrypto = globalThis.crypto || webcrypto;
export { nodeCrypto as crypto };
