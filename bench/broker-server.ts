/**
 * One bare broker in its own process for bench/broker.ts, so that it has an event loop to
 * itself (the load generator runs in the benchmark's process) and its CPU time and memory can be
 * read from /proc. Prints `{"port":N}` when it listens. Reads commands, one per line, on stdin:
 * `gc` (collect garbage, for memory readings; answers `{"gc":true,"heapUsed":bytes}`) and `close`
 * (closes the broker and exits).
 *
 *   node --import tsx --expose-gc --max-semi-space-size=32 bench/broker-server.ts aedes|junction <port> <maxQueued> <maxInflight>
 *
 * aedes runs as src/broker/embedded-broker.ts ran it before MqttBroker replaced it (quiet `debug`
 * loggers, a TCP server with TCP_NODELAY), without Junction's hooks and events; junction is the
 * MQTT 5 MqttBroker with the limits the benchmark passes.
 */
import { createServer, type Server, type Socket } from 'node:net'
import { createInterface } from 'node:readline'

const [kind, portArg = '0', maxQueuedArg = '1000000', maxInflightArg = '32'] = process.argv.slice(2)
const port = Number(portArg)
const sockets = new Set<Socket>()
let close: () => Promise<void>
let server: Server

if (kind === 'aedes') {
  // Junction's entry point installs these before aedes loads; the broker runs with them there.
  await import('../src/library-patches/debug.js')
  const { Aedes } = await import('aedes')
  const aedes = await Aedes.createBroker({ id: 'bench' })
  server = createServer({ noDelay: true }, (socket) => {
    socket.setNoDelay(true)
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    aedes.handle(socket)
  })
  close = () => new Promise<void>((resolve) => aedes.close(() => resolve()))
} else if (kind === 'junction') {
  const { MqttBroker } = await import('../src/broker/mqtt-broker.js')
  const { DEFAULT_BROKER_LIMITS } = await import('../src/core/domain.js')
  const broker = new MqttBroker({ limits: { ...DEFAULT_BROKER_LIMITS, allowAnonymous: true, maxQueuedMessages: Number(maxQueuedArg), maxInflight: Number(maxInflightArg) } })
  server = createServer({ noDelay: true }, (socket) => {
    socket.setNoDelay(true)
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    broker.handle(socket, { transport: 'tcp', peerhost: socket.remoteAddress, peerport: socket.remotePort })
  })
  close = () => broker.close()
} else {
  console.error('usage: broker-server.ts aedes|junction <port> [maxQueued] [maxInflight]')
  process.exit(2)
}

// Backlog well above the idle scenario's bursts of connects.
server.listen({ host: '127.0.0.1', port, backlog: 4096 }, () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as { port: number }).port }) + '\n')
})

async function shutdown(): Promise<void> {
  server.close()
  await close()
  for (const s of sockets) s.destroy()
  process.exit(0)
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'gc') {
    ;(globalThis as { gc?: () => void }).gc?.()
    process.stdout.write(JSON.stringify({ gc: true, heapUsed: process.memoryUsage().heapUsed }) + '\n')
  } else if (line === 'close') {
    void shutdown()
  }
})
process.stdin.once('end', () => void shutdown())
