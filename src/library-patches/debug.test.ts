import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import { DEBUG_PIN, guardDebug, installQuietDebug } from './debug.js'
import { LibraryPatchError, installedVersion } from './version-guard.js'

const require = createRequire(import.meta.url)
type Logger = ((...args: unknown[]) => void) & { enabled: boolean; namespace: string; log: (...args: unknown[]) => void; extend(ns: string): Logger }

describe('quiet debug loggers', () => {
  it('guard: the installed debug (every copy the MQTT libraries resolve) is the pinned release', () => {
    assert.equal(installedVersion('debug'), DEBUG_PIN.version)
    for (const user of ['mqtt', 'mqtt-packet', 'aedes']) assert.equal(installedVersion('debug', require.resolve(user)), DEBUG_PIN.version, `${user}'s debug`)
  })

  it('guard: refuses another version, naming the package, both versions and what to run', () => {
    const real = createRequire(require.resolve('mqtt'))('debug')
    assert.doesNotThrow(() => guardDebug(DEBUG_PIN.version, real))
    assert.throws(() => guardDebug('4.4.1', real), (err: unknown) => {
      assert.ok(err instanceof LibraryPatchError)
      assert.match(err.message, /debug 4\.4\.3 exactly, found debug 4\.4\.1/)
      assert.match(err.message, /npm ci/)
      return true
    })
    assert.throws(() => guardDebug(undefined, real), /found debug \(not installed\)/)
  })

  it('guard: refuses a factory whose loggers lack what the wrapper forwards to', () => {
    const noEnable = Object.assign(() => Object.assign(() => {}, { enabled: false, namespace: 'x', extend: () => {} }), {})
    assert.throws(() => guardDebug(DEBUG_PIN.version, noEnable), /enable\(\) is missing/)
    const noEnabledFlag = Object.assign(() => Object.assign(() => {}, { namespace: 'x', extend: () => {} }), { enable() {} })
    assert.throws(() => guardDebug(DEBUG_PIN.version, noEnabledFlag), /`enabled` is missing/)
    const noExtend = Object.assign(() => Object.assign(() => {}, { enabled: false, namespace: 'x' }), { enable() {} })
    assert.throws(() => guardDebug(DEBUG_PIN.version, noExtend), /extend\(\) is missing/)
    assert.throws(() => guardDebug(DEBUG_PIN.version, { enable() {} }), /logger factory\) is missing/)
  })

  it('the MQTT libraries get the wrapped factory (installed on import, DEBUG unset)', () => {
    if (process.env.DEBUG) {
      assert.equal(installQuietDebug(), false, 'with DEBUG set, nothing is replaced')
      return
    }
    assert.equal(installQuietDebug(), true)
    for (const user of ['aedes', 'mqtt-packet']) {
      const theirs = createRequire(require.resolve(user))('debug') as Record<symbol, unknown>
      assert.equal(theirs[Symbol.for('junction.quietDebug')], true, `${user} requires the quiet factory`)
    }
  })

  it('a disabled logger writes nothing; enabled, it forwards the same arguments, none added', () => {
    const factory = require('debug') as (ns: string) => Logger
    const log = factory('junction:test')
    const lines: unknown[][] = []
    log.log = (...args: unknown[]) => { lines.push(args) }
    assert.equal(log.namespace, 'junction:test')
    assert.ok(!log.enabled, 'off while DEBUG is unset')
    log('not written %s', 'x')
    assert.equal(lines.length, 0)

    log.enabled = true
    log('written %s and %d', 'text', 42)
    assert.equal(lines.length, 1)
    // debug prefixes the format (time, namespace) and leaves %s/%d to its log function.
    const [format, ...rest] = lines[0]!
    assert.match(String(format), /junction:test written %s and %d$/)
    assert.deepEqual(rest, ['text', 42], 'the same arguments, no trailing undefined')

    const child = log.extend('child')
    assert.equal(child.namespace, 'junction:test:child')
    assert.equal(typeof (factory as unknown as { enable: unknown }).enable, 'function', 'the module API is kept')
  })
})
