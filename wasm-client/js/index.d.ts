// Type definitions for sockeye-client (hand-written; mirrors socket.io-client 4.x).

/** Any event map: event name to listener signature. */
export interface EventsMap {
  [event: string]: any;
}

/** The default map: any event, any arguments. */
export interface DefaultEventsMap {
  [event: string]: (...args: any[]) => void;
}

export type EventNames<Map extends EventsMap> = keyof Map & (string | symbol);
export type EventParams<Map extends EventsMap, Ev extends EventNames<Map>> = Parameters<Map[Ev]>;

type Last<T extends any[]> = T extends [...infer _H, infer L] ? L : never;
type AllButLast<T extends any[]> = T extends [...infer H, infer _L] ? H : any[];
/** The first argument of an ack callback that is not the `err` of a timeout ack. */
type FirstNonErrorArg<T> = T extends (...args: infer P) => any
  ? P[0] extends Error
    ? P[1]
    : P[0]
  : any;
type WithTimeoutAck<Ev extends (...args: any[]) => void> = Last<Parameters<Ev>> extends (
  ...args: infer A
) => void
  ? (...args: [...AllButLast<Parameters<Ev>>, (err: Error, ...args: A) => void]) => void
  : Ev;
type DecorateAcknowledgements<E> = {
  [K in keyof E]: E[K] extends (...args: any[]) => void ? WithTimeoutAck<E[K]> : E[K];
};

/** Events every socket emits locally. */
export interface SocketReservedEvents {
  connect: () => void;
  connect_error: (err: Error & { data?: any }) => void;
  disconnect: (reason: DisconnectReason, description?: DisconnectDescription) => void;
}

/** What the transport said: a `TransportError`, or `{ description, context }` on a close. */
export type DisconnectDescription = Error | { description: string; context?: unknown };

/** A transport failure (`xhr poll error`, `xhr post error`, `websocket error`). */
export interface TransportError extends Error {
  type: 'TransportError';
  /** The HTTP status (0 for a network error), or the WebSocket's error event. */
  description: any;
}

/** A decoded packet (the manager's `packet` event). */
export interface Packet {
  type: number;
  nsp: string;
  data?: any;
  id?: number;
}

/** The Engine.IO connection (`manager.engine`). */
export interface EngineSocket extends Emitter<{}, EngineReservedEvents> {
  /** The Engine.IO session id, once open. */
  readonly id: string | undefined;
  /** The current transport, while a connection exists. */
  readonly transport: { name: 'polling' | 'websocket' } | undefined;
}

/** Events of `manager.engine`. */
export interface EngineReservedEvents {
  open: () => void;
  ping: () => void;
  upgrade: (transport: { name: 'polling' | 'websocket' }) => void;
  close: (reason: string, description?: DisconnectDescription) => void;
}

/** Events a manager emits. */
export interface ManagerReservedEvents {
  open: () => void;
  upgrade: (transport: string) => void;
  error: (err: Error) => void;
  ping: () => void;
  packet: (packet: Packet) => void;
  close: (reason: string, description?: DisconnectDescription) => void;
  reconnect_attempt: (attempt: number) => void;
  reconnect: (attempt: number) => void;
  reconnect_error: (err: Error) => void;
  reconnect_failed: () => void;
}

/** Why a socket disconnected. */
export type DisconnectReason =
  | 'io server disconnect'
  | 'io client disconnect'
  | 'ping timeout'
  | 'transport close'
  | 'transport error'
  | 'parse error';

/** Options of a manager (socket.io-client's names and defaults). */
export interface ManagerOptions {
  /** Path of the server endpoint. Default `"/socket.io"`. */
  path: string;
  /** Extra query parameters on every request. */
  query: Record<string, string> | string;
  /** Transports in order of preference. Default `["polling", "websocket"]`. */
  transports: ('polling' | 'websocket')[];
  /** Upgrade from polling to WebSocket when possible. Default `true`. */
  upgrade: boolean;
  /** Send cookies on cross-origin polling requests. Default `false`. */
  withCredentials: boolean;
  /** Headers on polling requests (browsers set none on a WebSocket). */
  extraHeaders: Record<string, string>;
  /** Reconnect automatically. Default `true`. */
  reconnection: boolean;
  /** Attempts before giving up. Default `Infinity`. */
  reconnectionAttempts: number;
  /** First reconnection delay in ms. Default `1000`. */
  reconnectionDelay: number;
  /** Largest reconnection delay in ms. Default `5000`. */
  reconnectionDelayMax: number;
  /** Jitter, `0..1`. Default `0.5`. */
  randomizationFactor: number;
  /** Connection timeout in ms. Default `20000`. */
  timeout: number;
  /** Connect when the socket is created. Default `true`. */
  autoConnect: boolean;
  /** Start on WebSocket if the page's last connection upgraded to it. Default `false`. */
  rememberUpgrade: boolean;
  /** Cache-busting parameter on requests (polling: unless `false`; WebSocket: if `true`). */
  timestampRequests: boolean;
  /** Name of the cache-busting parameter. Default `"t"`. */
  timestampParam: string;
  /** End the path with a slash (`/socket.io/`). Default `true`. */
  addTrailingSlash: boolean;
  /** Close the connection silently (no `disconnect`) when the page unloads. Default `false`. */
  closeOnBeforeunload: boolean;
}

/** Options of a socket. */
export interface SocketOptions {
  /** Sent with every CONNECT: an object, or a function handing one to its callback. */
  auth: { [key: string]: any } | ((cb: (data: object) => void) => void);
  /** Default ack timeout in ms for emits with an ack. */
  ackTimeout: number;
  /**
   * Send an emit again, up to this many more times, until it is acked within `ackTimeout`;
   * emits then go one at a time, in order. Default `0` (off).
   */
  retries: number;
}

/** Options of `io()`. */
export interface ClientOptions extends ManagerOptions, SocketOptions {
  /** A new connection even if one to this server exists. */
  forceNew: boolean;
  /** Share connections between sockets of one server. Default `true`. */
  multiplex: boolean;
}

/** A minimal typed event emitter. */
export class Emitter<
  ListenEvents extends EventsMap,
  ReservedEvents extends EventsMap = {}
> {
  on<Ev extends EventNames<ListenEvents & ReservedEvents>>(
    ev: Ev,
    listener: (ListenEvents & ReservedEvents)[Ev]
  ): this;
  once<Ev extends EventNames<ListenEvents & ReservedEvents>>(
    ev: Ev,
    listener: (ListenEvents & ReservedEvents)[Ev]
  ): this;
  off<Ev extends EventNames<ListenEvents & ReservedEvents>>(
    ev?: Ev,
    listener?: (ListenEvents & ReservedEvents)[Ev]
  ): this;
  removeAllListeners<Ev extends EventNames<ListenEvents & ReservedEvents>>(ev?: Ev): this;
  listeners<Ev extends EventNames<ListenEvents & ReservedEvents>>(
    ev: Ev
  ): (ListenEvents & ReservedEvents)[Ev][];
  hasListeners<Ev extends EventNames<ListenEvents & ReservedEvents>>(ev: Ev): boolean;
}

/** One connection, multiplexing the sockets of its namespaces. */
export class Manager<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents
> extends Emitter<{}, ManagerReservedEvents> {
  constructor(uri?: string, opts?: Partial<ManagerOptions & SocketOptions>);
  /** The options; `query` (and the others) changed here apply to the next connection. */
  opts: Partial<ManagerOptions & SocketOptions>;
  readonly nsps: Record<string, Socket<ListenEvents, EmitEvents>>;
  /** The server's origin. */
  readonly uri: string;
  /** The Engine.IO connection (a new one per connection attempt). */
  readonly engine: EngineSocket;
  /** The current transport, while connected (a Sockeye extension). */
  readonly transport: 'polling' | 'websocket' | undefined;
  /** Opens the connection if there is none; `fn(err?)` once it opens or fails. */
  open(fn?: (err?: Error) => void): this;
  connect(fn?: (err?: Error) => void): this;
  /** Closes the connection; the sockets stay (disconnected, `forced close`), no reconnection. */
  close(): this;
  disconnect(): this;
  reconnection(): boolean;
  reconnection(v: boolean): this;
  reconnectionAttempts(): number;
  reconnectionAttempts(v: number): this;
  reconnectionDelay(): number;
  reconnectionDelay(v: number): this;
  reconnectionDelayMax(): number;
  reconnectionDelayMax(v: number): this;
  randomizationFactor(): number;
  randomizationFactor(v: number): this;
  timeout(): number;
  timeout(v: number): this;
  /** The socket of a namespace, created on first use. */
  socket(nsp: string, opts?: Partial<SocketOptions>): Socket<ListenEvents, EmitEvents>;
}

/** A namespace of a connection. */
export class Socket<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents
> extends Emitter<ListenEvents, SocketReservedEvents> {
  readonly io: Manager<ListenEvents, EmitEvents>;
  readonly nsp: string;
  /** The session id, while connected. */
  readonly id: string | undefined;
  readonly connected: boolean;
  readonly disconnected: boolean;
  /** Whether the last connection recovered the previous session's state. */
  recovered: boolean;
  /** Whether the socket will (re)connect on its own. */
  readonly active: boolean;
  auth: SocketOptions['auth'];

  connect(): this;
  open(): this;
  disconnect(): this;
  close(): this;
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): this;
  send(...args: any[]): this;
  emitWithAck<Ev extends EventNames<EmitEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>>;
  timeout(ms: number): Socket<ListenEvents, DecorateAcknowledgements<EmitEvents>>;
  readonly volatile: this;
  compress(compress: boolean): this;
  onAny(listener: (event: string, ...args: any[]) => void): this;
  prependAny(listener: (event: string, ...args: any[]) => void): this;
  offAny(listener?: (event: string, ...args: any[]) => void): this;
  listenersAny(): ((event: string, ...args: any[]) => void)[];
  onAnyOutgoing(listener: (event: string, ...args: any[]) => void): this;
  prependAnyOutgoing(listener: (event: string, ...args: any[]) => void): this;
  offAnyOutgoing(listener?: (event: string, ...args: any[]) => void): this;
  listenersAnyOutgoing(): ((event: string, ...args: any[]) => void)[];
}

/** Socket.IO protocol revision (5). */
export const protocol: number;

/** Connects to `uri` (default: the page's origin); its path names the namespace. */
export function io<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents
>(opts?: Partial<ClientOptions>): Socket<ListenEvents, EmitEvents>;
export function io<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents
>(uri: string, opts?: Partial<ClientOptions>): Socket<ListenEvents, EmitEvents>;
export { io as connect };
export default io;
