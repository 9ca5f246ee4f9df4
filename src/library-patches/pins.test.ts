import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { DEBUG_PIN } from './debug.js'
import { KAFKAJS_PIN } from './kafkajs.js'
import { NATS_CORE_PIN } from './nats.js'
import { PG_PIN } from './pg.js'

const root = new URL('../../', import.meta.url)
const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { dependencies: Record<string, string>; overrides?: Record<string, string> }
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as { packages: Record<string, { version?: string }> }

describe('library patch pins', () => {
  for (const pin of [DEBUG_PIN, PG_PIN, KAFKAJS_PIN, NATS_CORE_PIN]) {
    it(`${pin.library}: package.json pins exactly the release ${pin.file} was written for, and package-lock installs it`, () => {
      assert.equal(manifest.dependencies[pin.library], pin.version, 'an exact version in dependencies, no range')
      assert.equal(lock.packages[`node_modules/${pin.library}`]?.version, pin.version)
      // No other copy anywhere in the tree (a library's own nested one would escape the patch or the pin).
      const nested = Object.entries(lock.packages).filter(([path, p]) => path.endsWith(`/node_modules/${pin.library}`) && p.version !== pin.version)
      assert.deepEqual(nested, [])
    })
  }

  it('every copy of debug follows the pin (overrides), since the MQTT libraries resolve their own', () => {
    assert.equal(manifest.overrides?.debug, '$debug')
  })
})
