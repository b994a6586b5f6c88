// How the Node build (node.cjs, and node.mjs over it) loads the wasm: synchronously, from the
// file next to it. `WebSocket` and `crypto` in the bundle are those of node-globals.js.
import { initSync, Manager } from './wasm.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

initSync({ module: readFileSync(join(__dirname, 'sockeye_wasm_bg.wasm')) });

export { Manager as Engine };

/** A received attachment as socket.io-client gives it in Node: a `Buffer` (no copy). */
export const received = (u8) => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
