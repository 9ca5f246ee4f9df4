import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { createServer as createNetServer, type Server, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { createServer as createTlsServer, type TLSSocket } from 'node:tls'
import { createWebSocketStream, WebSocketServer } from 'ws'
import type { ConnectionHandler, ConnectionInfo } from '../broker-types.js'
import type { ListenerSpec } from './listener-plan.js'
import { listenerUrls, reachableHosts, type Transport } from './listener-urls.js'

/** What a device needs to reach one listener. */
export interface ListenerAddress {
  readonly transport: Transport
  readonly port: number
  /** One URL per address of this machine a device can use (never 0.0.0.0). */
  readonly urls: readonly string[]
}

/** A listener that is open. */
export interface OpenListener {
  readonly transport: Transport
  readonly port: number
  /** The port asked for, when it was taken and `port` is a later one. */
  readonly movedFrom: number | undefined
  readonly path?: string
}

export interface BrokerListenersOptions {
  /** Address every listener binds to (0.0.0.0 = all IPv4 interfaces, :: = all). */
  readonly host: string
  readonly listeners: readonly ListenerSpec[]
  /** Certificate (chain) and key in PEM; needed by tls and wss listeners. */
  readonly certificate?: { readonly cert: string; readonly key: string }
  /**
   * Largest WebSocket frame accepted, in bytes (ws would buffer 100 MB). A frame larger than the
   * broker's largest packet is useless; twice that leaves room for clients that pack several
   * packets into one frame.
   */
  readonly maxFrameBytes?: number
  /** A connection that failed before reaching the broker (TLS handshake, WebSocket upgrade). */
  readonly onClientError?: (transport: Transport, error: Error, peerhost: string | undefined) => void
}

/** How far past a taken default port the next free one is looked for. */
const FALLBACK_RANGE = 100
/** A TLS handshake or WebSocket upgrade that takes longer is dropped: it holds a socket. */
const HANDSHAKE_TIMEOUT_MS = 10_000
/** What EMQX accepts as Sec-WebSocket-Protocol: mqtt.js sends `mqtt` (and `mqttv3.1` for MQTT 3.1). */
const WS_SUBPROTOCOLS = new Set(['mqtt', 'mqttv3.1', 'mqttv5', 'mqtt-v3', 'mqtt-v3.1.1', 'mqtt-v5'])

const TRANSPORT_NAMES: Record<Transport, string> = { tcp: 'MQTT', tls: 'MQTT over TLS', ws: 'MQTT over WebSocket', wss: 'MQTT over secure WebSocket' }

export class PortInUseError extends Error {
  constructor(readonly transport: Transport, readonly port: number) {
    super(`${TRANSPORT_NAMES[transport]} port ${port} is already in use`)
    this.name = 'PortInUseError'
  }
}

/**
 * A deployment's listeners: plain TCP, TLS, WebSocket and secure WebSocket, each handing every
 * accepted connection to the broker as a duplex byte stream with where it came from. The broker
 * never sees a socket, a TLS session or a WebSocket frame.
 */
export class BrokerListeners {
  private readonly sockets = new Set<Socket>()
  private closing: Promise<void> | undefined

  private constructor(private readonly host: string, private readonly servers: Server[], readonly listeners: readonly OpenListener[]) {}

  /**
   * Opens every listener in order; when one cannot open, those already open are closed and the
   * error is thrown (PortInUseError for a chosen port that is taken).
   */
  static async start(handler: ConnectionHandler, options: BrokerListenersOptions): Promise<BrokerListeners> {
    const servers: Server[] = []
    const open: OpenListener[] = []
    const self = new BrokerListeners(options.host, servers, open)
    try {
      for (const spec of options.listeners) {
        const server = self.createServer(handler, spec, options)
        servers.push(server)
        const port = await listenWithFallback(server, options.host, spec)
        // Past listen, a server reports only accept failures (EMFILE...): said, never fatal.
        server.on('error', (err: Error) => options.onClientError?.(spec.transport, err, undefined))
        open.push({ transport: spec.transport, port, movedFrom: port !== spec.port && spec.port !== 0 ? spec.port : undefined, ...(spec.path === undefined ? {} : { path: spec.path }) })
      }
    } catch (err) {
      await self.close()
      throw err
    }
    return self
  }

  /** The URLs devices can use, per listener; computed now, so an address the machine gained or lost shows. */
  addresses(hosts: readonly string[] = reachableHosts(this.host)): ListenerAddress[] {
    return this.listeners.map((l) => ({ transport: l.transport, port: l.port, urls: listenerUrls(l.transport, hosts, l.port, l.path) }))
  }

  /** Open connections, handshakes included. */
  get connections(): number {
    return this.sockets.size
  }

  /** Stops accepting and destroys every connection; safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const closed = this.servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve())))
      for (const socket of this.sockets) socket.destroy()
      this.sockets.clear()
      await Promise.all(closed)
    })()
    return this.closing
  }

  private track(socket: Socket): void {
    if (this.closing) {
      socket.destroy()
      return
    }
    // Nagle's algorithm costs ~20 ms per small message (an MQTT PUBLISH, a PUBACK) on every
    // transport, TLS and WebSocket included: they all sit on this socket.
    socket.setNoDelay(true)
    // A reset after the broker let go of the stream must not become an uncaught 'error'.
    socket.on('error', () => {})
    this.sockets.add(socket)
    socket.once('close', () => this.sockets.delete(socket))
  }

  private createServer(handler: ConnectionHandler, spec: ListenerSpec, options: BrokerListenersOptions): Server {
    const { transport } = spec
    const info = (socket: Socket): ConnectionInfo => ({ transport, peerhost: plainAddress(socket.remoteAddress), peerport: socket.remotePort })
    const needCertificate = () => {
      if (!options.certificate) throw new Error(`the ${TRANSPORT_NAMES[transport]} listener needs a certificate`)
      return { cert: options.certificate.cert, key: options.certificate.key }
    }
    let server: Server
    if (transport === 'tcp') {
      server = createNetServer({ noDelay: true }, (socket) => handler.handle(socket, info(socket)))
    } else if (transport === 'tls') {
      server = createTlsServer({ ...needCertificate(), handshakeTimeout: HANDSHAKE_TIMEOUT_MS, minVersion: 'TLSv1.2' }, (socket: TLSSocket) => handler.handle(socket, info(socket)))
      server.on('tlsClientError', (err: Error, socket: TLSSocket) => options.onClientError?.(transport, err, socket.remoteAddress))
    } else {
      const path = spec.path ?? '/mqtt'
      const wss = new WebSocketServer({
        noServer: true,
        clientTracking: false,
        perMessageDeflate: false,
        maxPayload: options.maxFrameBytes ?? 2 * 1024 * 1024,
        // The first subprotocol offered that is MQTT's; a client that offers none is accepted too.
        handleProtocols: (offered) => [...offered].find((p) => WS_SUBPROTOCOLS.has(p.toLowerCase())) ?? false,
      })
      const onRequest = (_req: IncomingMessage, res: ServerResponse) => {
        res.writeHead(426, { 'content-type': 'text/plain; charset=utf-8', upgrade: 'websocket', connection: 'close' })
        res.end(`This is an MQTT over WebSocket listener: connect a WebSocket client to path ${path} (subprotocol mqtt).\n`)
      }
      const http = transport === 'wss'
        ? createHttpsServer({ ...needCertificate(), handshakeTimeout: HANDSHAKE_TIMEOUT_MS, minVersion: 'TLSv1.2', noDelay: true }, onRequest)
        : createHttpServer({ noDelay: true }, onRequest)
      http.headersTimeout = HANDSHAKE_TIMEOUT_MS
      http.requestTimeout = HANDSHAKE_TIMEOUT_MS
      http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
        if (pathOf(req.url) !== path) {
          socket.end(`HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-type: text/plain\r\n\r\nMQTT over WebSocket is served at ${path}\n`)
          return
        }
        wss.handleUpgrade(req, socket, head, (ws) => {
          // Binary frames both ways; the stream joins them, so an MQTT packet may span frames
          // and a frame may hold several packets.
          const stream: Duplex = createWebSocketStream(ws)
          stream.on('error', () => {})
          handler.handle(stream, info(req.socket))
        })
      })
      http.on('tlsClientError', (err: Error, socket: TLSSocket) => options.onClientError?.(transport, err, socket.remoteAddress))
      wss.on('wsClientError', (err: Error, socket: Socket) => options.onClientError?.(transport, err, socket.remoteAddress))
      server = http
    }
    // Every raw connection, counted from accept (TLS and WebSocket handshakes included), so close()
    // can end them all.
    server.on('connection', (socket: Socket) => this.track(socket))
    return server
  }
}

/** An IPv4 client of a dual-stack (::) listener as rules and logs know it: 10.0.0.7, not ::ffff:10.0.0.7. */
function plainAddress(address: string | undefined): string | undefined {
  return address?.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
}

function pathOf(url: string | undefined): string {
  const q = url?.indexOf('?') ?? -1
  return url === undefined ? '/' : q >= 0 ? url.slice(0, q) : url
}

/** Listens on the spec's port; a taken port moves to the next free one when the spec allows. */
async function listenWithFallback(server: Server, host: string, spec: ListenerSpec): Promise<number> {
  const last = spec.fallback && spec.port !== 0 ? Math.min(65535, spec.port + FALLBACK_RANGE) : spec.port
  for (let p = spec.port; p <= last; p++) {
    try {
      await listenOnce(server, host, p)
      return (server.address() as { port: number }).port
    } catch (err) {
      if ((err as { code?: string }).code !== 'EADDRINUSE') throw err
    }
  }
  throw new PortInUseError(spec.transport, spec.port)
}

function listenOnce(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      server.off('listening', onListening)
      reject(err)
    }
    const onListening = () => {
      server.off('error', onError)
      resolve()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(port, host)
  })
}
