// The store keeps a check value sealed with the secret key it was created with: a start with
// another key refuses before anything runs (one node on SQLite here; every node on PostgreSQL
// in nodes.test.ts), and the right key starts again.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SecretKeyMismatchError } from '../../src/store/store.js'
import { startJunction, tempDataDir } from '../support/junction.js'

describe('secret key check', () => {
  it('a start with another JUNCTION_SECRET_KEY is refused with SecretKeyMismatchError; the right key starts', async () => {
    const dataDir = tempDataDir()
    const first = await startJunction({ dataDir, secretKey: 'the right key' })
    await first.close()
    await assert.rejects(startJunction({ dataDir, secretKey: 'another key' }), (err: unknown) => {
      assert.ok(err instanceof SecretKeyMismatchError, String(err))
      assert.match(err.message, /does not open the secrets in this store/)
      assert.ok(!err.message.includes('the right key') && !err.message.includes('another key'), 'no key in the message')
      return true
    })
    const again = await startJunction({ dataDir, secretKey: 'the right key' })
    assert.equal((await again.api('GET', '/api/v1/nodes')).status, 200)
    await again.close()
  })
})
