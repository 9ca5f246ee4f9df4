import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { DEFAULT_SETTINGS, loadSettings } from './settings.js'

describe('loadSettings', () => {
  it('has the documented defaults', () => {
    const s = loadSettings({})
    assert.equal(s.httpPort, 18083)
    assert.equal(s.mqttPort, undefined)
    assert.equal(s.dataDir, './data')
  })

  it('reads JUNCTION_* variables over the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-settings-'))
    const file = join(dir, 'junction.json')
    writeFileSync(file, JSON.stringify({ httpPort: 1000, dataDir: '/from-file' }))
    const s = loadSettings({ JUNCTION_CONFIG_FILE: file, JUNCTION_HTTP_PORT: '2000', JUNCTION_MQTT_PORT: '1999' })
    assert.equal(s.httpPort, 2000)
    assert.equal(s.mqttPort, 1999)
    assert.equal(s.dataDir, '/from-file')
  })

  it('audit retention (days, default 90) and history cap (versions, default 100); 0 turns either off', () => {
    assert.equal(loadSettings({}).auditRetentionDays, 90)
    assert.equal(loadSettings({}).historyMaxVersions, 100)
    const s = loadSettings({ JUNCTION_AUDIT_RETENTION_DAYS: '0', JUNCTION_HISTORY_MAX_VERSIONS: '7' })
    assert.equal(s.auditRetentionDays, 0)
    assert.equal(s.historyMaxVersions, 7)
    assert.throws(() => loadSettings({ JUNCTION_AUDIT_RETENTION_DAYS: '-1' }), /JUNCTION_AUDIT_RETENTION_DAYS/)
    assert.throws(() => loadSettings({ JUNCTION_HISTORY_MAX_VERSIONS: 'lots' }), /JUNCTION_HISTORY_MAX_VERSIONS/)
  })

  it('refuses bad values with the variable name', () => {
    assert.throws(() => loadSettings({ JUNCTION_HTTP_PORT: 'abc' }), /JUNCTION_HTTP_PORT/)
    assert.throws(() => loadSettings({ JUNCTION_API_KEY: 'k' }), /JUNCTION_API_SECRET/)
    assert.throws(() => loadSettings({ JUNCTION_LOG_FORMAT: 'xml' }), /JUNCTION_LOG_FORMAT/)
    assert.equal(loadSettings({ JUNCTION_LOG_FORMAT: 'json' }).logFormat, 'json')
    const dir = mkdtempSync(join(tmpdir(), 'junction-settings-'))
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ htpPort: 1 }))
    assert.throws(() => loadSettings({ JUNCTION_CONFIG_FILE: join(dir, 'c.json') }), /unknown setting "htpPort"/)
    assert.ok(Object.keys(DEFAULT_SETTINGS).length > 5)
  })

  it('JUNCTION_MQTT_ALLOW_ANONYMOUS is a boolean, unset by default (anonymous clients refused on a fresh install)', () => {
    assert.equal(loadSettings({}).mqttAllowAnonymous, undefined)
    for (const v of ['true', 'TRUE', '1', 'yes', 'on']) assert.equal(loadSettings({ JUNCTION_MQTT_ALLOW_ANONYMOUS: v }).mqttAllowAnonymous, true, v)
    for (const v of ['false', '0', 'no', 'off']) assert.equal(loadSettings({ JUNCTION_MQTT_ALLOW_ANONYMOUS: v }).mqttAllowAnonymous, false, v)
    assert.throws(() => loadSettings({ JUNCTION_MQTT_ALLOW_ANONYMOUS: 'maybe' }), /JUNCTION_MQTT_ALLOW_ANONYMOUS must be true or false/)
    const dir = mkdtempSync(join(tmpdir(), 'junction-settings-'))
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ mqttAllowAnonymous: 'yes' }))
    assert.throws(() => loadSettings({ JUNCTION_CONFIG_FILE: join(dir, 'c.json') }), /mqttAllowAnonymous must be true or false/)
    writeFileSync(join(dir, 'd.json'), JSON.stringify({ mqttAllowAnonymous: true }))
    assert.equal(loadSettings({ JUNCTION_CONFIG_FILE: join(dir, 'd.json') }).mqttAllowAnonymous, true)
  })
})
