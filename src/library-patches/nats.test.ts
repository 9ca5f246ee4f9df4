import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import { ProtocolHandler } from '@nats-io/nats-core/internal'
import { connect } from '@nats-io/transport-node'
import { NATS_CORE_PIN, guardNatsCore, natsWriter } from './nats.js'
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
})
