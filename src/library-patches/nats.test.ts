import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import { ProtocolHandler } from '@nats-io/nats-core/internal'
import { connect } from '@nats-io/transport-node'
import { NATS_CORE_PIN, guardNatsCore, natsWriter, readFirst, type NatsMsgFrame } from './nats.js'
import { LibraryPatchError, installedVersion } from './version-guard.js'

const servers = (process.env.JUNCTION_TEST_NATS_SERVERS ?? '127.0.0.1:4222').split(',')
const transportEntry = createRequire(import.meta.url).resolve('@nats-io/transport-node')

describe('nats library patch', () => {
  it('guard: the copy of nats-core the transport loads is the pinned release, with ProtocolHandler#sendCommand', () => {
    assert.equal(installedVersion(NATS_CORE_PIN.library, transportEntry), NATS_CORE_PIN.version)
    assert.doesNotThrow(() => guardNatsCore(NATS_CORE_PIN.version, ProtocolHandler))
  })

  it('guard: refuses another version and a handler without sendCommand, naming the package, both versions and what to run', () => {
    assert.throws(() => guardNatsCore('3.5.0', ProtocolHandler), (err: unknown) => {
      assert.ok(err instanceof LibraryPatchError)
      assert.match(err.message, /@nats-io\/nats-core 3\.4\.0 exactly, found @nats-io\/nats-core 3\.5\.0: the version differs/)
      assert.match(err.message, /npm ci/)
      return true
    })
    assert.throws(() => guardNatsCore(NATS_CORE_PIN.version, class {}), /sendCommand\(\) is missing/)
    assert.throws(() => natsWriter({ isClosed: () => false }), /`protocol` \(ProtocolHandler with noMorePublishing\) is missing/)
    assert.throws(() => readFirst({ protocol: {} }, { getID: () => 1 }, () => true), /`protocol` \(ProtocolHandler with a parser, inMsgs and inBytes\) is missing/)
  })

  it('bytes written go out in order with nats.js\'s own publishes; a closed connection refuses them as nats.js does', async () => {
    const nc = await connect({ servers, reconnect: false })
    const subject = `junction.patch.${Date.now()}`
    const sub = nc.subscribe(subject, { max: 3 })
    await nc.flush()
    const write = natsWriter(nc)
    nc.publish(subject, 'one')
    write(Buffer.from(`PUB ${subject} 3\r\ntwo\r\n`))
    nc.publish(subject, 'three')
    const got: string[] = []
    for await (const m of sub) got.push(m.string())
    assert.deepEqual(got, ['one', 'two', 'three'])
    await nc.close()
    assert.throws(() => write(Buffer.from(`PUB ${subject} 1\r\nx\r\n`)), (err: Error) => err.name === 'ClosedConnectionError')
  })

  describe('readFirst: one subscription\'s MSG frames read before nats.js parses them', () => {
    const text = (f: NatsMsgFrame, from: number, to: number) => Buffer.from(f.buf.subarray(from, to)).toString()
    /** A connection with subscriptions a (read first: frames whose data starts with "take") and b, logging where each frame went. */
    async function setUp() {
      const nc = await connect({ servers, reconnect: false })
      const log: string[] = []
      const a = nc.subscribe('junction.readfirst.a.*', { callback: (_, m) => { log.push(`a ${m.subject} ${m.string().length > 20 ? m.data.length : m.string()}${m.headers ? ' +headers' : ''}`) } })
      const b = nc.subscribe('junction.readfirst.b.*', { callback: (_, m) => { log.push(`b ${m.subject} ${m.data.length > 20 ? m.data.length : m.string()}`) } })
      const taken: string[] = []
      readFirst(nc, a, (f) => {
        const data = text(f, f.dataStart, f.dataEnd)
        if (!data.startsWith('take')) return false
        const entry = `a ${text(f, f.subjectStart, f.subjectEnd)} ${data.length > 20 ? data.length : data}`
        log.push(entry)
        taken.push(entry)
        return true
      })
      const parse = (bytes: Uint8Array) => (nc as unknown as { protocol: { parser: { parse(b: Uint8Array): void } } }).protocol.parser.parse(bytes)
      return { nc, log, taken, parse, sidA: a.getID(), sidB: b.getID() }
    }
    const frames = (sidA: number, sidB: number, big = 0) => [
      `MSG junction.readfirst.a.1 ${sidA} 5\r\ntake1\r\n`,
      `MSG junction.readfirst.b.1 ${sidB} 3\r\nbee\r\n`,
      `+OK\r\n`,
      `MSG junction.readfirst.a.2 ${sidA} reply.to 7\r\ndecline\r\n`,
      `HMSG junction.readfirst.a.3 ${sidA} 18 23\r\nNATS/1.0\r\nk: v\r\n\r\ntake!\r\n`,
      ...(big ? [`MSG junction.readfirst.b.2 ${sidB} ${big}\r\n${'x'.repeat(big)}\r\n`] : []),
      `MSG junction.readfirst.a.4 ${sidA} 5\r\ntake2\r\n`,
    ]
    const expected = (big = 0) => [
      'a junction.readfirst.a.1 take1',
      'b junction.readfirst.b.1 bee',
      'a junction.readfirst.a.2 decline',
      'a junction.readfirst.a.3 take! +headers',
      ...(big ? [`b junction.readfirst.b.2 ${big}`] : []),
      'a junction.readfirst.a.4 take2',
    ]

    it('takes what the reader accepts and gives nats.js the rest, in order, however the socket splits the bytes', async () => {
      const { nc, log, taken, parse, sidA, sidB } = await setUp()
      try {
        const stream = Buffer.from(frames(sidA, sidB).join(''))
        const inMsgs = nc.stats().inMsgs
        parse(stream)
        assert.deepEqual(log, expected())
        assert.deepEqual(taken, ['a junction.readfirst.a.1 take1', 'a junction.readfirst.a.4 take2'], 'only MSG frames of a that the reader accepted')
        assert.equal(nc.stats().inMsgs - inMsgs, 5, 'taken frames count in the statistics')
        for (let cut = 1; cut < stream.length; cut++) {
          log.length = 0
          parse(stream.subarray(0, cut))
          parse(stream.subarray(cut))
          assert.deepEqual(log, expected(), `split at byte ${cut}`)
        }
        log.length = 0
        for (let i = 0; i < stream.length; i++) parse(stream.subarray(i, i + 1))
        assert.deepEqual(log, expected(), 'one byte at a time')
      } finally {
        await nc.close()
      }
    })

    it('a frame over 64 KiB cut by a read, or an operation it does not know, is left to nats.js; it reads first again after', async () => {
      const { nc, log, taken, parse, sidA, sidB } = await setUp()
      try {
        const big = 100_000
        const first = Buffer.from(frames(sidA, sidB, big).join(''))
        for (const size of [1000, 4096, 65_536, 7_777]) {
          log.length = taken.length = 0
          for (let i = 0; i < first.length; i += size) parse(first.subarray(i, i + size))
          parse(Buffer.from(`msg junction.readfirst.a.5 ${sidA} 5\r\ntake3\r\n`))
          parse(Buffer.from(frames(sidA, sidB).join('')))
          assert.deepEqual(log, [...expected(big), 'a junction.readfirst.a.5 take3', ...expected()], `reads of ${size} bytes`)
          // nats.js read the lower-case "msg"; the next read is framed here again.
          assert.deepEqual(taken.slice(-2), ['a junction.readfirst.a.1 take1', 'a junction.readfirst.a.4 take2'])
          assert.ok(!taken.includes('a junction.readfirst.a.5 take3'))
        }
      } finally {
        await nc.close()
      }
    })

    it('random streams of frames, cut at random: every message once, in order; only accepted MSG frames of a taken', async () => {
      const { nc, log, taken, parse, sidA, sidB } = await setUp()
      let seed = 20261206
      const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31)
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!
      try {
        for (let round = 0; round < 150; round++) {
          // Rounds of three kinds: with operations left to nats.js, with frames over 64 KiB, with neither.
          const lowerCase = round % 3 === 0, big = round % 3 === 1
          let stream = '', n = 0
          const want: string[] = [], wantTaken: string[] = []
          for (let f = 0; f < 40; f++) {
            const size = big && random() < 0.1 ? 70_000 : Math.floor(random() * 120)
            const sub = pick(['a', 'b'] as const), kind = pick(['take', 'keep', 'keep', 'headers', 'ok', 'lower'] as const)
            const data = (kind === 'take' ? 'take' : 'keep').padEnd(Math.max(4, size), 'x').slice(0, Math.max(4, size))
            const subject = `junction.readfirst.${sub}.${n++}`
            const shown = data.length > 20 ? String(data.length) : data
            if (kind === 'ok') stream += '+OK\r\n'
            else if (kind === 'headers') {
              stream += `HMSG ${subject} ${sub === 'a' ? sidA : sidB} 18 ${18 + data.length}\r\nNATS/1.0\r\nk: v\r\n\r\n${data}\r\n`
              want.push(`${sub} ${subject} ${shown}${sub === 'a' ? ' +headers' : ''}`)
            } else if (kind === 'lower' && !lowerCase) f--
            else {
              stream += `${kind === 'lower' ? 'msg' : 'MSG'} ${subject} ${sub === 'a' ? sidA : sidB} ${data.length}\r\n${data}\r\n`
              want.push(`${sub} ${subject} ${shown}`)
              if (sub === 'a' && kind === 'take') wantTaken.push(want.at(-1)!)
            }
          }
          const bytes = Buffer.from(stream)
          log.length = taken.length = 0
          for (let i = 0; i < bytes.length;) {
            const size = pick([1, 7, 60, 512, 4096, 65_536, 100_000])
            parse(bytes.subarray(i, i + size))
            i += size
          }
          assert.deepEqual(log, want, `round ${round}`)
          // Taken only what the reader accepted; all of it where nothing was left to nats.js (what follows such a frame in its read goes there too).
          assert.ok(taken.every((t) => wantTaken.includes(t)), `round ${round}: taken only accepted frames`)
          if (!lowerCase && !big) assert.deepEqual(taken, wantTaken, `round ${round}: every accepted frame taken`)
        }
      } finally {
        await nc.close()
      }
    })

    it('on a real connection: messages published to both subjects arrive once each, in order', async () => {
      const { nc, log, taken } = await setUp()
      try {
        for (let i = 0; i < 2000; i++) nc.publish(`junction.readfirst.${i % 3 === 0 ? 'b' : 'a'}.${i}`, i % 3 === 1 ? `take${i}` : `keep${i}`)
        await nc.flush()
        const want = Array.from({ length: 2000 }, (_, i) => `${i % 3 === 0 ? 'b' : 'a'} junction.readfirst.${i % 3 === 0 ? 'b' : 'a'}.${i} ${i % 3 === 1 ? `take${i}` : `keep${i}`}`)
        assert.deepEqual(log, want)
        assert.equal(taken.length, 667)
      } finally {
        await nc.close()
      }
    })
  })
})
