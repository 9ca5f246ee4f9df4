// Restart: deployments and connectors come back from the store and reconnect, on the embedded
// store and on PostgreSQL (JUNCTION_DATABASE_URL), secrets still decrypting.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import pg from 'pg'
import { privateDatabase, sharedPostgres } from '../support/postgres.js'
import { eventually, startJunction, tempDataDir, type TestJunction } from '../support/junction.js'
import type { Settings } from '../../src/settings.js'

const base = '/api/v1/deployments/default/connectors'

async function restartKeepsEverything(overrides: Partial<Settings>): Promise<void> {
  const shared = sharedPostgres()
  const config = { host: shared.host, port: shared.port, database: shared.database, username: shared.user, password: 'kept-secret', resource: { healthCheckIntervalMs: 1000 } }
  let j: TestJunction = await startJunction(overrides)
  let id: string
  let otherDeployment: string
  try {
    const created = await j.api('POST', base, { name: 'survivor', type: 'postgresql', config })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    id = created.body.id
    const other = await j.api('POST', '/api/v1/deployments', { name: 'stopped-one', plan: 'premium' })
    otherDeployment = other.body.id
    await j.api('POST', `/api/v1/deployments/${otherDeployment}/stop`)
    await eventually(() => j.api('GET', `${base}/${id}`), (r) => r.body.status === 'connected', 'connected')
  } finally {
    await j.close()
  }

  j = await startJunction({ ...overrides, dataDir: j.settings.dataDir })
  try {
    const deployments = (await j.api('GET', '/api/v1/deployments')).body.data
    assert.deepEqual(deployments.map((d: any) => [d.id, d.status, d.plan]), [['default', 'running', 'dedicated'], [otherDeployment, 'stopped', 'premium']])
    const back = await eventually(() => j.api('GET', `${base}/${id}`), (r) => r.body.status === 'connected', 'reconnected after restart')
    assert.equal(back.body.name, 'survivor')
    assert.equal(back.body.config.password, '******')
    const row = await j.junction.store.connectors.get('default', id)
    assert.equal(row?.config.password, 'kept-secret', 'the secret decrypts after a restart')
  } finally {
    await j.close()
  }
}

describe('restart', () => {
  it('on the embedded store (data dir)', async () => {
    await restartKeepsEverything({ dataDir: tempDataDir() })
  })

  describe('on PostgreSQL (JUNCTION_DATABASE_URL)', () => {
    const url = privateDatabase()

    it('deployments and connectors come back and reconnect; secrets are encrypted in the table', async () => {
      await restartKeepsEverything({ databaseUrl: url, secretKey: 'a passphrase for the test' })
      const c = new pg.Client({ connectionString: url })
      await c.connect()
      try {
        const rows = (await c.query('SELECT config FROM connectors')).rows as Array<{ config: string }>
        assert.equal(rows.length, 1)
        assert.ok(!rows[0]!.config.includes('kept-secret'))
        assert.match(JSON.parse(rows[0]!.config).password, /^enc:v1:/)
      } finally {
        await c.end()
      }
    })
  })
})
