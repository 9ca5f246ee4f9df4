/**
 * MQTT codec benchmark: Junction's codec (src/broker/codec) against mqtt-packet 9 in the same
 * run, on the broker's hot path: decoding PUBLISH (QoS 0 and 1; 16, 100 and 1000-byte payloads;
 * short topics) and PUBACK from 64 KiB socket-sized chunks, and encoding the same packets. Runs
 * alternate between the two codecs, each from a collected heap, and the best of several rounds
 * counts, which keeps a noisy machine's interference out of the ratio. Also times ways to decode short UTF-8 topics. Prints
 * tables; asserts nothing.
 *
 *   node --import tsx bench/codec.ts [rounds=5] [msPerRun=200]
 */
import '../src/library-patches/debug.js' // as in production: mqtt-packet's debug calls made cheap first
import { spawnSync } from 'node:child_process'
import mqttPacket from 'mqtt-packet'
import { PacketDecoder } from '../src/broker/codec/decoder.js'
import { encodePacket } from '../src/broker/codec/encoder.js'
import { decodeUtf8 } from '../src/broker/codec/utf8.js'
import type { ProtocolVersion, ServerPacket } from '../src/broker/codec/packet-types.js'

// Each timed run starts from a collected heap, so one contender's garbage is not collected on the
// other's time.
const gc = (globalThis as { gc?: () => void }).gc
if (!gc) {
  const run = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' })
  process.exit(run.status ?? 1)
}

const ROUNDS = Number(process.argv[2] ?? 5)
const MS_PER_RUN = Number(process.argv[3] ?? 200)
const CHUNK = 64 * 1024

interface Case {
  name: string
  version: ProtocolVersion
  packet: Record<string, unknown>
}

const cases: Case[] = []
for (const version of [4, 5] as const) {
  for (const qos of [0, 1] as const) {
    for (const size of [16, 100, 1000]) {
      cases.push({
        name: `v${version === 4 ? '3.1.1' : '5'} PUBLISH QoS ${qos} ${size} B`,
        version,
        packet: { cmd: 'publish', topic: 'sensors/room-12/temperature', payload: Buffer.alloc(size, 0x61), qos, retain: false, dup: false, ...(qos ? { messageId: 4242 } : {}) },
      })
    }
  }
  cases.push({ name: `v${version === 4 ? '3.1.1' : '5'} PUBACK`, version, packet: { cmd: 'puback', messageId: 4242, ...(version === 5 ? { reasonCode: 0 } : {}) } })
}

/** Calls `run` (which handles `unit` packets) repeatedly for MS_PER_RUN; returns packets per second. */
function rate(run: () => void, unit: number): number {
  gc!()
  let count = 0
  const start = process.hrtime.bigint()
  const budget = BigInt(MS_PER_RUN) * 1_000_000n
  let elapsed = 0n
  do {
    run()
    count += unit
    elapsed = process.hrtime.bigint() - start
  } while (elapsed < budget)
  return count / (Number(elapsed) / 1e9)
}

/** Best rate of each of two contenders over alternating rounds. */
function duel(a: () => number, b: () => number): [number, number] {
  let bestA = 0
  let bestB = 0
  for (let round = 0; round < ROUNDS; round++) {
    bestA = Math.max(bestA, a())
    bestB = Math.max(bestB, b())
  }
  return [bestA, bestB]
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
const mb = (packetsPerSecond: number, bytes: number) => ((packetsPerSecond * bytes) / 1e6).toFixed(0)

function table(title: string, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  console.log(`\n${title}\n`)
  console.log(line(header))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const row of rows) console.log(line(row))
}

// Decoding: the same stream of one packet kind, cut into 64 KiB chunks as a socket delivers it.
const decodeRows: string[][] = []
for (const c of cases) {
  const one = mqttPacket.generate(c.packet as unknown as mqttPacket.Packet, { protocolVersion: c.version } as object)
  const perStream = Math.max(1, Math.floor((4 * CHUNK) / one.length))
  const stream = Buffer.concat(Array.from({ length: perStream }, () => one))
  const chunks: Buffer[] = []
  for (let pos = 0; pos < stream.length; pos += CHUNK) chunks.push(stream.subarray(pos, pos + CHUNK))

  let seen = 0
  const parser = mqttPacket.parser({ protocolVersion: c.version } as object)
  parser.on('packet', () => seen++)
  const decoder = new PacketDecoder({ protocolVersion: c.version, onPacket: () => seen++ })
  const [reference, ours] = duel(
    () => rate(() => { for (const chunk of chunks) parser.parse(chunk) }, perStream),
    () => rate(() => { for (const chunk of chunks) decoder.push(chunk) }, perStream),
  )
  if (seen === 0) throw new Error('nothing decoded')
  decodeRows.push([c.name, `${one.length}`, fmt(reference), fmt(ours), mb(reference, one.length), mb(ours, one.length), `${(ours / reference).toFixed(2)}x`])
}
table('Decode (packets/s and MB/s of packet bytes; 64 KiB chunks)', ['case', 'bytes', 'mqtt-packet/s', 'codec/s', 'mqtt-packet MB/s', 'codec MB/s', 'speed-up'], decodeRows)

// Encoding: one Buffer per packet (mqtt-packet's generate, the codec's encodePacket).
const encodeRows: string[][] = []
for (const c of cases) {
  const one = mqttPacket.generate(c.packet as unknown as mqttPacket.Packet, { protocolVersion: c.version } as object)
  const mine = encodePacket(c.packet as unknown as ServerPacket, c.version)
  if (!mine.equals(one)) throw new Error(`${c.name}: the codec's bytes differ from mqtt-packet's`)
  const opts = { protocolVersion: c.version } as object
  const packet = c.packet as unknown as mqttPacket.Packet
  const serverPacket = c.packet as unknown as ServerPacket
  const batch = 1000
  let sink = 0
  const [reference, ours] = duel(
    () => rate(() => { for (let i = 0; i < batch; i++) sink += mqttPacket.generate(packet, opts).length }, batch),
    () => rate(() => { for (let i = 0; i < batch; i++) sink += encodePacket(serverPacket, c.version).length }, batch),
  )
  if (sink === 0) throw new Error('nothing encoded')
  encodeRows.push([c.name, `${one.length}`, fmt(reference), fmt(ours), mb(reference, one.length), mb(ours, one.length), `${(ours / reference).toFixed(2)}x`])
}
table('Encode (packets/s and MB/s; one Buffer per packet)', ['case', 'bytes', 'mqtt-packet/s', 'codec/s', 'mqtt-packet MB/s', 'codec MB/s', 'speed-up'], encodeRows)

// Short topics: which validating decode is fastest (the codec uses the byte check + latin1Slice).
const fatal = new TextDecoder('utf-8', { fatal: true })
const utf8Rows: string[][] = []
for (const topic of ['a/b', 'sensors/room-12/temperature', 'factory/line-4/station-17/robot-2/joint-5/torque']) {
  const bytes = Buffer.from(`..${topic}..`)
  const start = 2
  const end = bytes.length - 2
  const batch = 10_000
  let sink = 0
  const variants: Array<[string, () => void]> = [
    ['toString("utf8"), no validation', () => { for (let i = 0; i < batch; i++) sink += bytes.toString('utf8', start, end).length }],
    ['TextDecoder fatal (no NUL check)', () => { for (let i = 0; i < batch; i++) sink += fatal.decode(bytes.subarray(start, end)).length }],
    ['codec: byte check + latin1Slice', () => { for (let i = 0; i < batch; i++) sink += decodeUtf8(bytes, start, end)!.length }],
  ]
  const best = variants.map(() => 0)
  for (let round = 0; round < ROUNDS; round++) {
    variants.forEach(([, run], i) => { best[i] = Math.max(best[i]!, rate(run, batch)) })
  }
  if (sink === 0) throw new Error('nothing decoded')
  variants.forEach(([name], i) => utf8Rows.push([`${topic.length} B: ${name}`, `${(1e9 / best[i]!).toFixed(0)} ns`]))
}
table('Short topic decode (ns per string)', ['topic length: method', 'time'], utf8Rows)
