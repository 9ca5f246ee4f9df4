#!/usr/bin/env node
// A lean device fleet: the same load as bench/publisher.mjs (same arguments, same messages, same
// JSON line at the end), written straight onto MQTT 3.1.1 sockets instead of through mqtt.js.
//
// Why: in production the devices are other machines, but here they share the 2 cores with what is
// measured, and mqtt.js spends several times the CPU per QoS 1 publish that Junction's broker
// spends taking it. The resource benchmarks compare Junction's whole path with the resource's
// raw client in the same run, so every microsecond the load generator burns is charged to
// Junction's side of the ratio. This generator encodes each PUBLISH by hand, writes all that one
// turn of the event loop produced in one write, and reads PUBACKs by their 4 bytes.
//   node bench/lean-publisher.mjs <mqtt-url> <topic> <count> <qos> [rate=0] [window=500] [clients=1]
import { connect } from 'node:net'

const [url, topic, countArg, qosArg, rateArg = '0', windowArg = '500', clientsArg = '1'] = process.argv.slice(2)
const count = Number(countArg)
const qos = Number(qosArg)
const rate = Number(rateArg)
const window = Math.min(Number(windowArg), 65_535)
const clients = Math.max(1, Math.min(Number(clientsArg), count || 1))
const now = process.env.BENCH_TS_FRACTION === '1' ? () => (performance.timeOrigin + performance.now()).toFixed(3) : Date.now
const { hostname, port } = new URL(url)
if (qos !== 0 && qos !== 1) throw new Error('lean-publisher: QoS 0 or 1 only')

const topicBytes = Buffer.from(topic, 'utf8')
// Publishes per write: a few, as a handful of devices behind one socket would send, not the whole
// window at once (which would make the broker's reads unrealistically cheap).
const COALESCE = Number(process.env.BENCH_LEAN_COALESCE ?? 16)

function varint(n) {
  const out = []
  do {
    let b = n % 128
    n = Math.floor(n / 128)
    if (n > 0) b |= 0x80
    out.push(b)
  } while (n > 0)
  return out
}

function connectPacket(clientId) {
  const id = Buffer.from(clientId, 'utf8')
  // Protocol name "MQTT", level 4, flags: clean session; keepalive 0 (no pings to answer).
  const body = Buffer.concat([Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 0, id.length >> 8, id.length & 0xff]), id])
  return Buffer.concat([Buffer.from([0x10, ...varint(body.length)]), body])
}

function publishPacket(payload, packetId) {
  const payloadBytes = Buffer.byteLength(payload)
  const remaining = 2 + topicBytes.length + (qos > 0 ? 2 : 0) + payloadBytes
  const head = varint(remaining)
  const buf = Buffer.allocUnsafe(1 + head.length + remaining)
  let o = 0
  buf[o++] = 0x30 | (qos << 1)
  for (const b of head) buf[o++] = b
  buf[o++] = topicBytes.length >> 8
  buf[o++] = topicBytes.length & 0xff
  o += topicBytes.copy(buf, o)
  if (qos > 0) {
    buf[o++] = packetId >> 8
    buf[o++] = packetId & 0xff
  }
  buf.write(payload, o, 'utf8')
  return buf
}

/** One device connection: publishes its share of the sequence numbers, at most `window` unacknowledged. */
function device(k) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), noDelay: true })
    let pending = Buffer.alloc(0)
    let connected = false
    let inflight = 0
    let nextId = 1
    let seq = k
    let scheduled = false
    let waiting = false
    let finished = false
    let blocked = false
    socket.once('error', reject)
    socket.on('connect', () => socket.write(connectPacket(`bench-${process.pid}-${k}`)))
    socket.on('data', (chunk) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
      let o = 0
      while (pending.length - o >= 2) {
        let len = 0
        let mul = 1
        let i = o + 1
        for (; i < pending.length; i++) {
          len += (pending[i] & 0x7f) * mul
          mul *= 128
          if ((pending[i] & 0x80) === 0) break
        }
        if (i >= pending.length || pending.length - (i + 1) < len) break
        const type = pending[o] >> 4
        if (type === 2) {
          if (pending[i + 2] !== 0) return reject(new Error(`CONNACK refused: return code ${pending[i + 2]}`))
          connected = true
          schedule()
        } else if (type === 4) {
          inflight--
        }
        o = i + 1 + len
      }
      pending = o === pending.length ? Buffer.alloc(0) : pending.subarray(o)
      if (connected) schedule()
    })
    socket.on('drain', () => {
      blocked = false
      schedule()
    })

    function schedule() {
      if (scheduled) return
      scheduled = true
      setImmediate(pump)
    }

    // Writes what the window (and the rate) allows now, as one buffer: a fleet of devices sends
    // back to back, and one write per turn keeps the generator's syscalls out of the figures.
    function pump() {
      scheduled = false
      if (finished || blocked) return
      const out = []
      while (seq < count && (qos === 0 || inflight < window)) {
        if (rate > 0) {
          const wait = started + (seq * 1000) / rate - Date.now()
          if (wait > 1) {
            if (!waiting) {
              waiting = true
              setTimeout(() => { waiting = false; schedule() }, wait)
            }
            break
          }
        }
        const payload = `{"seq":${seq},"ts":${now()},"temp":${(seq % 400) / 10},"site":"plant-${seq % 7}"}`
        out.push(publishPacket(payload, nextId))
        nextId = nextId === 65_535 ? 1 : nextId + 1
        if (qos > 0) inflight++
        seq += clients
        if (out.length >= COALESCE) {
          schedule()
          break
        }
      }
      const flushed = out.length === 0 || socket.write(out.length === 1 ? out[0] : Buffer.concat(out))
      if (seq >= count && inflight === 0) {
        finished = true
        socket.end(Buffer.from([0xe0, 0]))
        socket.once('close', resolve)
        return
      }
      // QoS 0 has no acknowledgements to wake it: it goes on when the socket drains.
      if (qos === 0 && flushed && seq < count) schedule()
      blocked = !flushed // until 'drain', nothing more is written
    }
  })
}

const started = Date.now()
const t0 = performance.now()
await Promise.all(Array.from({ length: clients }, (_, k) => device(k)))
const elapsedMs = performance.now() - t0
const cpu = process.cpuUsage()
process.stdout.write(JSON.stringify({ sent: count, elapsedMs, cpuMs: (cpu.user + cpu.system) / 1000 }) + '\n')
