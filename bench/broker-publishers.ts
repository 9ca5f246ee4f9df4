/**
 * Publishers of bench/broker.ts in a worker thread: raw MQTT 3.1.1 connections that send
 * pre-encoded PUBLISH packets, patched in place with a sequence number and a timestamp, in
 * batches of one write each. QoS 0 writes as fast as the socket takes them (back-pressure from
 * TCP); QoS 1 keeps `window` publishes unacknowledged per connection.
 *
 * Messages: {type:'ready'} once every connection has its CONNACK, then {type:'done', endedAt,
 * acked} when every publish is written (QoS 0) or acknowledged (QoS 1); `go` starts publishing,
 * `close` disconnects.
 */
import { connect, type Socket } from 'node:net'
import { parentPort, workerData } from 'node:worker_threads'
import { CONNACK, DISCONNECT, PUBACK, PacketReader, connectPacket, publishTemplate } from './mqtt-wire.js'

export interface PublishersJob {
  readonly port: number
  /** Which publishers of `total` this thread runs: publisher p sends seq p, p + total, ... */
  readonly indices: readonly number[]
  readonly total: number
  readonly messages: number
  readonly qos: 0 | 1
  readonly window: number
  readonly payloadSize: number
  readonly runId: string
}

/** Publishes per write at QoS 0. */
const BATCH = 128

const job = workerData as PublishersJob
const now = () => performance.timeOrigin + performance.now()

interface Publisher {
  readonly socket: Socket
  readonly reader: { feed(chunk: Buffer): void }
  onPacket: (type: number, data: Buffer, start: number) => void
}

function open(index: number): Promise<Publisher> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: job.port, noDelay: true })
    const publisher: Publisher = {
      socket,
      reader: new PacketReader((type, _flags, data, start) => publisher.onPacket(type, data, start)),
      onPacket: (type, data, start) => {
        if (type === CONNACK && data[start + 1] === 0) resolve(publisher)
        else reject(new Error(`publisher ${index}: CONNACK refused (${data[start + 1]})`))
      },
    }
    socket.on('data', (chunk) => publisher.reader.feed(chunk))
    socket.once('error', reject)
    socket.write(connectPacket(`bench-pub-${job.runId}-${index}`, 0))
  })
}

/** Writes `n` publishes of publisher `index` starting at its `k`-th message into one buffer. */
function batch(template: ReturnType<typeof publishTemplate>, index: number, k: number, n: number): Buffer {
  const size = template.bytes.length
  const buf = Buffer.allocUnsafe(size * n)
  const ts = now()
  for (let j = 0; j < n; j++) {
    const at = j * size
    template.bytes.copy(buf, at)
    buf.writeUInt32BE(index + (k + j) * job.total, at + template.payloadAt)
    buf.writeDoubleBE(ts, at + template.payloadAt + 4)
    if (template.packetIdAt >= 0) buf.writeUInt16BE(((k + j) % 65535) + 1, at + template.packetIdAt)
  }
  return buf
}

async function run(publisher: Publisher, index: number): Promise<number> {
  const count = Math.ceil((job.messages - index) / job.total)
  const template = publishTemplate(`bench/p${index}`, job.payloadSize, job.qos)
  const { socket } = publisher
  if (job.qos === 0) {
    for (let k = 0; k < count; k += BATCH) {
      if (!socket.write(batch(template, index, k, Math.min(BATCH, count - k)))) await new Promise((r) => socket.once('drain', r))
    }
    // Written means handed to the kernel.
    await new Promise<void>((r) => socket.write(Buffer.alloc(0), () => r()))
    return count
  }
  return new Promise((resolve) => {
    let next = 0
    let acked = 0
    const more = () => {
      const n = Math.min(job.window - (next - acked), count - next)
      if (n <= 0) return
      socket.write(batch(template, index, next, n))
      next += n
    }
    publisher.onPacket = (type) => { if (type === PUBACK) acked++ }
    // Acknowledgements of one read are answered with one write.
    socket.on('data', () => {
      if (acked === count) resolve(acked)
      else more()
    })
    more()
  })
}

const publishers = await Promise.all(job.indices.map(open))
parentPort!.on('message', async (message: string) => {
  if (message === 'go') {
    const acked = await Promise.all(publishers.map((p, i) => run(p, job.indices[i]!)))
    parentPort!.postMessage({ type: 'done', endedAt: now(), acked: acked.reduce((a, b) => a + b, 0) })
  } else if (message === 'close') {
    await Promise.all(publishers.map((p) => new Promise<void>((r) => { p.socket.once('close', () => r()); p.socket.end(DISCONNECT) })))
    parentPort!.close()
  }
})
parentPort!.postMessage({ type: 'ready' })
