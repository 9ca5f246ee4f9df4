import { createServer, type Server, type Socket } from 'node:net'
import type { ConnectionHandler } from './broker-types.js'

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

/** A plain TCP listener handing each connection to a broker. */
export class TcpListener {
  private server: Server | undefined
  private readonly sockets = new Set<Socket>()

  constructor(private readonly handler: ConnectionHandler) {}

  /**
   * Listens on `port`; when `fallback` is set and the port is taken, tries the next ports (up to
   * 100 further) and reports the move. An explicit port that is taken throws PortInUseError.
   */
  async listen(host: string, port: number, fallback: boolean): Promise<ListenResult> {
    const server = createServer({ noDelay: true }, (socket) => {
      // Nagle's algorithm costs ~20 ms per small QoS 0 message on loopback.
      socket.setNoDelay(true)
      this.sockets.add(socket)
      socket.once('close', () => this.sockets.delete(socket))
      this.handler.handle(socket, { transport: 'tcp', peerhost: socket.remoteAddress, peerport: socket.remotePort })
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

  async close(): Promise<void> {
    const server = this.server
    this.server = undefined
    for (const s of this.sockets) s.destroy()
    this.sockets.clear()
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()))
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
