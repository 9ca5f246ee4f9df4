import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import { installQuietDebug } from './quiet-debug.js'

const require = createRequire(import.meta.url)
type Logger = ((...args: unknown[]) => void) & { enabled: boolean; namespace: string; log: (...args: unknown[]) => void; extend(ns: string): Logger }

describe('quiet debug loggers', () => {
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
