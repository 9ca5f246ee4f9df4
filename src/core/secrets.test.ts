import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Type } from '@sinclair/typebox'
import { secretString, tlsSchema } from '../connector-api/index.js'
import { MASK, hasUnresolvedMask, maskSecrets, restoreMaskedSecrets, secretPaths } from './secrets.js'

const schema = Type.Object({ user: Type.String(), password: Type.Optional(secretString()), tls: tlsSchema })

describe('secrets', () => {
  it('finds secret fields at any depth', () => {
    assert.deepEqual(secretPaths(schema), ['password', 'tls.clientKey'])
  })

  it('masks present secrets only, without touching the input', () => {
    const config = { user: 'u', password: 'p4ss', tls: { enable: true, verify: true, clientKey: 'KEY' } }
    const masked = maskSecrets(config, schema)
    assert.deepEqual(masked, { user: 'u', password: MASK, tls: { enable: true, verify: true, clientKey: MASK } })
    assert.equal(config.password, 'p4ss')
    assert.deepEqual(maskSecrets({ user: 'u', password: '', tls: {} }, schema), { user: 'u', password: '', tls: {} })
  })

  it('restores masked secrets from the stored config and keeps new ones', () => {
    const stored = { user: 'u', password: 'old', tls: { clientKey: 'KEY' } }
    const edit = { user: 'v', password: MASK, tls: { clientKey: 'NEWKEY' } }
    assert.deepEqual(restoreMaskedSecrets(edit, stored, schema), { user: 'v', password: 'old', tls: { clientKey: 'NEWKEY' } })
  })

  it('leaves a mask with nothing stored behind it, and reports it', () => {
    const restored = restoreMaskedSecrets({ user: 'u', password: MASK, tls: {} }, { user: 'u', tls: {} }, schema)
    assert.equal(restored.password, MASK)
    assert.equal(hasUnresolvedMask(restored, schema), 'password')
    assert.equal(hasUnresolvedMask({ user: 'u', password: 'x', tls: {} }, schema), undefined)
  })
})
