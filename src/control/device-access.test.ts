import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DeploymentDeviceAccess, type StoredDeviceUser } from './device-access.js'
import { hashDevicePassword, verifyDevicePassword } from './device-password.js'
import { LoginGuard } from './login-guard.js'

describe('device passwords', () => {
  it('hash with scrypt, a salt per hash and the parameters in the string', async () => {
    const a = await hashDevicePassword('s3cret')
    const b = await hashDevicePassword('s3cret')
    assert.match(a, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/)
    assert.notEqual(a, b, 'salted')
    assert.ok(!a.includes('s3cret'))
    assert.equal(await verifyDevicePassword('s3cret', a), true)
    assert.equal(await verifyDevicePassword(Buffer.from('s3cret'), a), true, 'the CONNECT password arrives as bytes')
    assert.equal(await verifyDevicePassword('s3cret ', a), false)
    assert.equal(await verifyDevicePassword('', a), false)
  })

  it('verify reads the parameters from the hash, and refuses what it did not write', async () => {
    const weak = await hashDevicePassword('x')
    const [, , r, p, salt, hash] = weak.split('$')
    assert.equal(await verifyDevicePassword('x', ['scrypt', 16384, r, p, salt, hash].join('$')), true)
    assert.equal(await verifyDevicePassword('x', ['scrypt', 1024, r, p, salt, hash].join('$')), false, 'other parameters, other key')
    assert.equal(await verifyDevicePassword('x', ['scrypt', 3, r, p, salt, hash].join('$')), false, 'N not a power of two')
    assert.equal(await verifyDevicePassword('x', ['scrypt', 2 ** 24, r, p, salt, hash].join('$')), false, 'too much memory')
    assert.equal(await verifyDevicePassword('x', 'plain-text'), false)
    assert.equal(await verifyDevicePassword('x', ''), false)
  })
})

describe('login guard', () => {
  it('no delay at first, then doubling per recent failure, bounded; a username success ends its streak', () => {
    let now = 0
    const g = new LoginGuard({ baseDelayMs: 100, maxDelayMs: 1000, windowMs: 60_000, maxTracked: 100 }, () => now)
    assert.equal(g.delayFor('u', 'h'), 0)
    g.recordFailure('u', 'h')
    assert.equal(g.delayFor('u', 'h'), 100)
    g.recordFailure('u', 'h')
    g.recordFailure('u', 'h')
    assert.equal(g.delayFor('u', 'other-host'), 400, 'per username')
    assert.equal(g.delayFor('other-user', 'h'), 400, 'per host')
    for (let i = 0; i < 20; i++) g.recordFailure('u', 'h')
    assert.equal(g.delayFor('u', 'h'), 1000, 'bounded')
    g.recordSuccess('u')
    assert.equal(g.delayFor('u', 'h2'), 0)
    assert.equal(g.delayFor('x', 'h'), 1000, 'the host keeps its streak')
    now += 60_001
    assert.equal(g.delayFor('x', 'h'), 0, 'old failures stop counting')
    const s = g.stats()
    assert.equal(s.failed, 23)
    assert.equal(s.succeeded, 1)
    assert.deepEqual(s.failedByUsername.map((u) => [u.username, u.failures]), [['u', 23]])
    assert.deepEqual(s.failedByPeerhost.map((u) => [u.peerhost, u.failures]), [['h', 23]])
  })

  it('remembers a bounded number of usernames', () => {
    const g = new LoginGuard({ baseDelayMs: 1, maxDelayMs: 1, windowMs: 1000, maxTracked: 3 })
    for (const u of ['a', 'b', 'c', 'd']) g.recordFailure(u, undefined)
    assert.deepEqual(g.stats().failedByUsername.map((u) => u.username).sort(), ['b', 'c', 'd'])
    assert.equal(g.stats().failed, 4)
  })
})

async function accessWith(users: Record<string, { password: string; superuser?: boolean }>, allowAnonymous: () => boolean) {
  const stored = new Map<string, StoredDeviceUser>()
  for (const [name, u] of Object.entries(users)) stored.set(name, { passwordHash: await hashDevicePassword(u.password), superuser: u.superuser ?? false })
  const waits: number[] = []
  const access = new DeploymentDeviceAccess({ findUser: async (u) => stored.get(u), allowAnonymous },
    new LoginGuard({ baseDelayMs: 50, maxDelayMs: 200, windowMs: 60_000, maxTracked: 100 }),
    async (ms) => { waits.push(ms) })
  return { access, waits }
}

const req = (username: string | undefined, password?: string) => ({ clientid: 'c1', username, password: password === undefined ? undefined : Buffer.from(password), peerhost: '127.0.0.1' })

describe('DeploymentDeviceAccess.authenticate', () => {
  it('anonymous clients only when allowed', async () => {
    let allow = false
    const { access } = await accessWith({}, () => allow)
    assert.deepEqual(await access.authenticate(req(undefined)), { ok: false, reason: 'not_authorized' })
    assert.deepEqual(await access.authenticate(req('')), { ok: false, reason: 'not_authorized' }, 'an empty username is none')
    allow = true
    assert.deepEqual(await access.authenticate(req(undefined)), { ok: true, anonymous: true, superuser: false })
    assert.equal(access.stats().anonymousRefused, 2)
  })

  it('a device user needs its password (even when anonymous clients are allowed); superuser comes from the user', async () => {
    for (const allow of [false, true]) {
      const { access } = await accessWith({ dev: { password: 'pw' }, root: { password: 'rootpw', superuser: true } }, () => allow)
      assert.deepEqual(await access.authenticate(req('dev', 'pw')), { ok: true, anonymous: false, superuser: false })
      assert.deepEqual(await access.authenticate(req('root', 'rootpw')), { ok: true, anonymous: false, superuser: true })
      assert.deepEqual(await access.authenticate(req('dev', 'wrong')), { ok: false, reason: 'bad_username_or_password' })
      assert.deepEqual(await access.authenticate(req('dev')), { ok: false, reason: 'bad_username_or_password' })
    }
  })

  it('an unknown username: refused, or anonymous when anonymous clients are allowed', async () => {
    let allow = false
    const { access } = await accessWith({}, () => allow)
    assert.deepEqual(await access.authenticate(req('ghost', 'x')), { ok: false, reason: 'bad_username_or_password' })
    allow = true
    assert.deepEqual(await access.authenticate(req('ghost', 'x')), { ok: true, anonymous: true, superuser: false })
  })

  it('failures are counted per username and host and slow down the next attempts', async () => {
    const { access, waits } = await accessWith({ dev: { password: 'pw' } }, () => false)
    for (let i = 0; i < 4; i++) await access.authenticate(req('dev', `guess-${i}`))
    assert.deepEqual(waits, [50, 100, 200], 'no wait before the first attempt, then increasing, bounded')
    const s = access.stats()
    assert.equal(s.failed, 4)
    assert.deepEqual(s.failedByUsername.map((u) => [u.username, u.failures]), [['dev', 4]])
    assert.deepEqual(s.failedByPeerhost.map((u) => [u.peerhost, u.failures]), [['127.0.0.1', 4]])
    assert.deepEqual(await access.authenticate(req('dev', 'pw')), { ok: true, anonymous: false, superuser: false }, 'the right password still works after the wait')
    assert.equal(access.stats().succeeded, 1)
  })

  it('a store failure refuses the client', async () => {
    const access = new DeploymentDeviceAccess({ findUser: async () => { throw new Error('db down') }, allowAnonymous: () => true, onError: () => {} })
    assert.deepEqual(await access.authenticate(req('dev', 'pw')), { ok: false, reason: 'not_authorized' })
  })
})

describe('DeploymentDeviceAccess.permissions', () => {
  it('superusers may do anything; others get the ACL', async () => {
    const { access } = await accessWith({}, () => false)
    access.setAcl({ rules: [{ who: 'all', action: 'all', topic: 'devices/${clientid}/#', permission: 'allow' }], default: 'deny' })
    const root = access.permissions({ clientid: 'c1', username: 'root', superuser: true })
    assert.equal(root.canPublish('anything'), true)
    assert.equal(root.canSubscribe('#'), true)
    const dev = access.permissions({ clientid: 'c1', username: 'dev', superuser: false })
    assert.equal(dev.canPublish('devices/c1/t'), true)
    assert.equal(dev.canPublish('devices/c2/t'), false)
    assert.equal(dev.canSubscribe('#'), false)
  })

  it('a new ACL applies to permissions handed out earlier, at their next check', async () => {
    const { access } = await accessWith({}, () => false)
    access.setAcl({ rules: [], default: 'allow' })
    const p = access.permissions({ clientid: 'c1', username: undefined, superuser: false })
    assert.equal(p.canPublish('t'), true)
    assert.equal(p.canPublish('t'), true, 'cached')
    access.setAcl({ rules: [{ who: 'all', action: 'publish', topic: 't', permission: 'deny' }], default: 'allow' })
    assert.equal(p.canPublish('t'), false)
    assert.equal(p.canSubscribe('t'), true)
  })

  it('the per-connection cache stays bounded and answers stay right past the bound', async () => {
    const { access } = await accessWith({}, () => false)
    access.setAcl({ rules: [{ who: 'all', action: 'all', topic: 'even/#', permission: 'allow' }], default: 'deny' })
    const p = access.permissions({ clientid: 'c', username: undefined, superuser: false })
    for (let i = 0; i < 2000; i++) assert.equal(p.canPublish(`${i % 2 === 0 ? 'even' : 'odd'}/${i}`), i % 2 === 0)
    const cache = (p as unknown as { publish: Map<string, boolean> }).publish
    assert.ok(cache.size <= 512, `cache size ${cache.size}`)
  })
})
