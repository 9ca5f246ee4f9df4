import { createServer, type Server, type Socket } from 'node:net'
import { Aedes, type AedesPublishPacket, type Client } from 'aedes'

/** What a broker tells the rule engine: client publishes and client lifecycle events. */
export interface BrokerSink {
  /** A message a client published (not the broker's own, e.g. $SYS or republished ones). */
  published(message: PublishedMessage): void
  clientEvent(event: ClientEvent): void
}

export interface PublishedMessage {
  readonly topic: string
  readonly payload: Buffer
  readonly qos: 0 | 1 | 2
  readonly retain: boolean
  readonly dup: boolean
  readonly clientid: string
  readonly username: string | undefined
  readonly peerhost: string | undefined
  readonly receivedAt: number
}

export type ClientEvent =
  | { readonly kind: 'client_connected' | 'client_disconnected'; readonly clientid: string; readonly username: string | undefined; readonly peerhost: string | undefined; readonly protoVer: number; readonly cleanStart: boolean }
  | { readonly kind: 'session_subscribed' | 'session_unsubscribed'; readonly clientid: string; readonly username: string | undefined; readonly peerhost: string | undefined; readonly topic: string; readonly qos: number }
  | { readonly kind: 'message_acked'; readonly clientid: string; readonly username: string | undefined; readonly peerhost: string | undefined; readonly topic: string; readonly qos: number; readonly payload: Buffer }

export interface OutgoingMessage {
  readonly topic: string
  readonly payload: string | Buffer
  readonly qos: 0 | 1 | 2
  readonly retain: boolean
}

export interface ListenResult {
  readonly host: string
  readonly port: number
  /** True when the requested port was taken and a later one was used instead. */
  readonly movedFrom: number | undefined
}

export class PortInUseError extends Error {
  constructor(readonly port: number) {
    super(`MQTT port ${port} is already in use`)
    this.name = 'PortInUseError'
  }
}

/**
 * A deployment's embedded MQTT 3.1.1 broker (aedes) on its own TCP listener. Kept free of rule and
 * connector logic: the engine subscribes to it in-process.
 */
export class EmbeddedBroker {
  private aedes: Aedes | undefined
  private server: Server | undefined
  private readonly sockets = new Set<Socket>()
  private readonly usernames = new WeakMap<Client, string>()

  constructor(private readonly sink?: BrokerSink) {}

  /**
   * Listens on `port`; when `fallback` is set and the port is taken, tries the next ports (up to
   * 100 further) and reports the move. An explicit port that is taken throws PortInUseError.
   */
  async listen(host: string, port: number, fallback: boolean): Promise<ListenResult> {
    this.aedes = await Aedes.createBroker({
      id: 'junction',
      // Accepts every client (authentication of devices is not in scope yet) and remembers the
      // username, which rule SQL exposes as `username`.
      authenticate: (client, username, _password, done) => {
        if (username) this.usernames.set(client, username)
        done(null, true)
      },
    })
    const aedes = this.aedes
    if (this.sink) this.attach(aedes, this.sink)
    const server = createServer({ noDelay: true }, (socket) => {
      // Nagle's algorithm costs ~20 ms per small QoS 0 message on loopback.
      socket.setNoDelay(true)
      this.sockets.add(socket)
      socket.once('close', () => this.sockets.delete(socket))
      aedes.handle(socket)
    })
    this.server = server
    const last = fallback && port !== 0 ? Math.min(65535, port + 100) : port
    for (let p = port; p <= last; p++) {
      try {
        await listenOnce(server, host, p)
        const address = server.address() as { port: number }
        return { host, port: address.port, movedFrom: p !== port ? port : undefined }
      } catch (err) {
        if ((err as { code?: string }).code !== 'EADDRINUSE') {
          await this.close()
          throw err
        }
      }
    }
    await this.close()
    throw new PortInUseError(port)
  }

  /** Publishes into this broker (the `republish` action). */
  publish(message: OutgoingMessage): Promise<void> {
    const aedes = this.aedes
    if (!aedes) return Promise.reject(new Error('the broker is not running'))
    const payload = typeof message.payload === 'string' ? Buffer.from(message.payload) : message.payload
    return new Promise((resolve, reject) => {
      aedes.publish({ cmd: 'publish', topic: message.topic, payload, qos: message.qos, retain: message.retain, dup: false }, (err) => (err ? reject(err) : resolve()))
    })
  }

  private attach(aedes: Aedes, sink: BrokerSink): void {
    const who = (client: Client) => ({
      clientid: client.id,
      username: this.usernames.get(client),
      peerhost: (client.conn as Socket).remoteAddress,
    })
    aedes.on('publish', (packet: AedesPublishPacket, client: Client | null) => {
      if (!client) return
      sink.published({
        topic: packet.topic, payload: packet.payload as Buffer, qos: packet.qos, retain: packet.retain, dup: packet.dup,
        ...who(client), receivedAt: Date.now(),
      })
    })
    aedes.on('clientReady', (client) => sink.clientEvent({ kind: 'client_connected', ...who(client), protoVer: client.version, cleanStart: client.clean }))
    aedes.on('clientDisconnect', (client) => sink.clientEvent({ kind: 'client_disconnected', ...who(client), protoVer: client.version, cleanStart: client.clean }))
    aedes.on('subscribe', (subs, client) => {
      for (const s of subs) sink.clientEvent({ kind: 'session_subscribed', ...who(client), topic: s.topic, qos: s.qos })
    })
    aedes.on('unsubscribe', (topics, client) => {
      for (const topic of topics) sink.clientEvent({ kind: 'session_unsubscribed', ...who(client), topic, qos: 0 })
    })
    aedes.on('ack', (packet, client) => {
      if (packet?.cmd !== 'publish' || !client) return
      sink.clientEvent({ kind: 'message_acked', ...who(client), topic: packet.topic, qos: packet.qos, payload: packet.payload as Buffer })
    })
  }

  get connectedClients(): number {
    return this.aedes?.connectedClients ?? 0
  }

  async close(): Promise<void> {
    const server = this.server
    const aedes = this.aedes
    this.server = undefined
    this.aedes = undefined
    for (const s of this.sockets) s.destroy()
    this.sockets.clear()
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()))
    if (aedes && !aedes.closed) await new Promise<void>((resolve) => aedes.close(() => resolve()))
  }
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
