// The store's part of device access on both back ends: migration 0002 over a database holding
// rows of 0001, device users (unique per deployment, hashes only), the ACL document, MQTT settings
// with the TLS key sealed, and deleting a deployment with its users and ACL.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DEFAULT_MQTT_SETTINGS } from '../../src/core/domain.js'
import { isUniqueViolation, openDatabase, storeLocation, type StoreLocation } from '../../src/store/database.js'
import { DeploymentStore } from '../../src/store/deployment-store.js'
import { migrateTo, migrateToLatest } from '../../src/store/migrations.js'
import { MqttAccessStore } from '../../src/store/mqtt-access-store.js'
import { SecretBox } from '../../src/store/secret-box.js'
import { privateDatabase } from '../support/postgres.js'
import { tempDataDir } from '../support/junction.js'

const box = SecretBox.fromPassphrase('store test')
const KEY = '-----BEGIN PRIVATE KEY-----\nnot-a-real-key-but-secret\n-----END PRIVATE KEY-----\n'

async function exercise(location: StoreLocation): Promise<void> {
  const db = openDatabase(location)
  try {
    await migrateTo(db, '0001_control_plane')
    const now = new Date().toISOString()
    await db.insertInto('deployments').values({ id: 'old', name: 'old', plan: 'dedicated', desired_state: 'running', mqtt_port: null, created_at: now, updated_at: now } as never).execute()
    await migrateToLatest(db)

    const deployments = new DeploymentStore(db, box)
    const old = await deployments.get('old')
    assert.deepEqual(old?.mqttSettings, DEFAULT_MQTT_SETTINGS, 'a row from before 0002 reads as the defaults')

    const settings = { ...DEFAULT_MQTT_SETTINGS, maxInflight: 9, listeners: { ...DEFAULT_MQTT_SETTINGS.listeners, ws: { enabled: false, port: 9001, path: '/x' } }, tls: { certificate: 'CERT', key: KEY } }
    await deployments.update({ ...old!, mqttSettings: settings })
    const raw = await db.selectFrom('deployments').select('mqtt_settings').where('id', '=', 'old').executeTakeFirstOrThrow()
    assert.ok(!raw.mqtt_settings!.includes('not-a-real-key'), 'the key is sealed at rest')
    assert.match(JSON.parse(raw.mqtt_settings!).tls.key, /^enc:v1:/)
    assert.deepEqual((await deployments.get('old'))?.mqttSettings, settings)
    // A document written before a setting existed still reads every field.
    await db.updateTable('deployments').set({ mqtt_settings: JSON.stringify({ maxInflight: 3, listeners: { tls: { enabled: false } } }) }).where('id', '=', 'old').execute()
    const partial = (await deployments.get('old'))!.mqttSettings
    assert.equal(partial.maxInflight, 3)
    assert.deepEqual(partial.listeners.tls, { enabled: false, port: null })
    assert.deepEqual(partial.listeners.ws, DEFAULT_MQTT_SETTINGS.listeners.ws)
    assert.equal(partial.maxPacketSize, DEFAULT_MQTT_SETTINGS.maxPacketSize)

    await deployments.insert({ ...old!, id: 'other', name: 'other', mqttSettings: DEFAULT_MQTT_SETTINGS })
    const access = new MqttAccessStore(db)
    const user = { deploymentId: 'old', username: 'dev', passwordHash: 'scrypt$1$1$1$a$b', superuser: false, createdAt: now, updatedAt: now }
    await access.insertUser(user)
    await access.insertUser({ ...user, deploymentId: 'other' })
    await assert.rejects(access.insertUser(user), (err) => isUniqueViolation(err), 'unique per deployment')
    assert.equal(await access.updateUser({ ...user, passwordHash: 'scrypt$2', superuser: true }), true)
    assert.deepEqual(await access.getUser('old', 'dev'), { ...user, passwordHash: 'scrypt$2', superuser: true })
    assert.equal(await access.updateUser({ ...user, username: 'ghost' }), false)
    assert.deepEqual((await access.listUsers('other')).map((u) => u.username), ['dev'])

    assert.deepEqual(await access.getAcl('old'), { acl: { rules: [], default: 'allow' }, updatedAt: null })
    const acl = { rules: [{ who: { username: 'dev' }, action: 'publish', topic: 'a/${clientid}', permission: 'allow' }, { who: 'all', action: 'all', topic: '#', permission: 'deny' }], default: 'deny' } as const
    await access.putAcl('old', acl, now)
    await access.putAcl('old', acl, now)
    assert.deepEqual(await access.getAcl('old'), { acl, updatedAt: now })

    await deployments.delete('old')
    assert.equal(await access.getUser('old', 'dev'), undefined)
    assert.equal((await access.getAcl('old')).updatedAt, null)
    assert.ok(await access.getUser('other', 'dev'), 'the other deployment keeps its user')
    assert.equal(await access.deleteUser('other', 'dev'), true)
    assert.equal(await access.deleteUser('other', 'dev'), false)
  } finally {
    await db.destroy()
  }
}

describe('store: broker access', () => {
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
