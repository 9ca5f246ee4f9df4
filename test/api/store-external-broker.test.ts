// The store's part of external broker mode on both back ends: migration 0005 over rows of 0003
// (which read as embedded), the broker settings with the password and TLS client key sealed at
// rest and read back in clear, and back to embedded (stored as null).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { EMBEDDED_BROKER, type ExternalBrokerSettings } from '../../src/core/domain.js'
import { openDatabase, storeLocation, type StoreLocation } from '../../src/store/database.js'
import { DeploymentStore } from '../../src/store/deployment-store.js'
import { migrateTo, migrateToLatest } from '../../src/store/migrations.js'
import { SecretBox } from '../../src/store/secret-box.js'
import { privateDatabase } from '../support/postgres.js'
import { tempDataDir } from '../support/junction.js'

const box = SecretBox.fromPassphrase('store test')
const PASSWORD = 'broker-password-not-in-the-row'
const CLIENT_KEY = '-----BEGIN PRIVATE KEY-----\nclient-key-not-in-the-row\n-----END PRIVATE KEY-----\n'

async function exercise(location: StoreLocation): Promise<void> {
  const db = openDatabase(location)
  try {
    await migrateTo(db, '0003_roles_audit')
    const now = new Date().toISOString()
    await db.insertInto('deployments').values({ id: 'old', name: 'old', plan: 'dedicated', desired_state: 'running', mqtt_port: null, created_at: now, updated_at: now } as never).execute()
    await migrateToLatest(db)

    const deployments = new DeploymentStore(db, box)
    const old = await deployments.get('old')
    assert.deepEqual(old?.broker, EMBEDDED_BROKER, 'a row from before 0005 is embedded')

    const external: ExternalBrokerSettings = {
      mode: 'external', servers: ['emqx-1:1883', 'emqx-2:1883'], clientIdPrefix: 'junction-', username: 'j', password: PASSWORD,
      protocolVersion: 5, tls: { enable: true, verify: true, clientCert: 'CERT', clientKey: CLIENT_KEY }, sharedGroup: 'junction', qos: 1,
      keepaliveS: 60, sessionExpiryS: 7200, connectTimeoutMs: 5000,
    }
    await deployments.update({ ...old!, broker: external })
    const raw = await db.selectFrom('deployments').select('broker').where('id', '=', 'old').executeTakeFirstOrThrow()
    assert.ok(raw.broker && !raw.broker.includes(PASSWORD) && !raw.broker.includes('client-key-not-in-the-row'), 'secrets sealed at rest')
    assert.match(JSON.parse(raw.broker).password, /^enc:v1:/)
    assert.deepEqual((await deployments.get('old'))?.broker, external, 'read back in clear')

    await deployments.update({ ...old!, broker: EMBEDDED_BROKER })
    const back = await db.selectFrom('deployments').select('broker').where('id', '=', 'old').executeTakeFirstOrThrow()
    assert.equal(back.broker, null)
    assert.deepEqual((await deployments.get('old'))?.broker, EMBEDDED_BROKER)
  } finally {
    await db.destroy()
  }
}

describe('store: external broker settings', () => {
  it('on SQLite', async () => {
    await exercise(storeLocation(tempDataDir(), undefined))
  })
  describe('on PostgreSQL', () => {
    const url = privateDatabase()
    it('the same', async () => {
      await exercise(storeLocation('', url))
    })
  })
})
