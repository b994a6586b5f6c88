// The classic-script build (sockeye-client.min.js): a global `io`, as socket.io-client's
// socket.io.min.js, with `io.Manager`, `io.Socket`, `io.connect`, `io.protocol`.
import * as all from './index.js';

const { default: io } = all;
for (const [k, v] of Object.entries(all)) if (k !== 'default') io[k] = v;
globalThis.io = io;
