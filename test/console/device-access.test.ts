// Device access in the console, in a real browser: add a device user (and see a taken username
// refused next to its field), change its password, delete it after confirming; build an ACL with
// rules moved into order, see a bad topic filter refused next to the rule's field, save it; change
// broker settings. Every change is checked through the API and the DeviceAccess the broker uses.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  assertNoPageProblems, cellOf, controlNames, closeBrowser, exactly, field, login, printShots, rowWith, shot, startConsole, step,
  tableWithColumn, textOf, type ConsoleHarness,
} from './support.js'

const DEP = 'default'

describe('console: device access', () => {
  let h: ConsoleHarness

  before(async () => {
    h = await startConsole({ mqttAllowAnonymous: false })
    await h.goto('/')
    await login(h.page)
  })
  after(async () => {
    await h?.close()
    await closeBrowser()
    printShots()
  })

  const page = () => h.page
  /** Every visible control has a name from its label or aria-label (a placeholder is not a name). */
  async function assertNamedControls(): Promise<void> {
    const unnamed = (await controlNames(page())).filter((c) => !c.ignored && (c.name === '' || c.nameFrom === 'placeholder'))
    assert.deepEqual(unnamed, [], 'controls without a proper accessible name')
  }
  const authenticate = (username: string, password: string) =>
    h.j.junction.deployments.access(DEP).authenticate({ clientid: 'browser-test', username, password: Buffer.from(password), peerhost: '127.0.0.1' })

  it('device users: add, a taken username refused at its field, change password, delete with confirmation', async () => {
    const p = page()
    await step(p, 'device-users', async () => {
      await h.goto(`/#/deployments/${DEP}/connectors`)
      await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: exactly('Device users') }).click()
      await p.getByRole('heading', { level: 1, name: exactly('Device users') }).waitFor()
      await p.getByRole('heading', { name: exactly('No device users yet') }).waitFor()

      await field(p, 'Username').fill('sensor-1')
      await field(p, 'Password').fill('first-password')
      await p.getByRole('button', { name: exactly('Add user') }).click()
      await p.getByText('Device user sensor-1 added.').waitFor()
      const table = tableWithColumn(p, 'Superuser')
      await rowWith(table, 'sensor-1').waitFor()
      assert.equal(await textOf(await cellOf(table, rowWith(table, 'sensor-1'), 'Superuser')), 'no')
      assert.equal(await field(p, 'Password').inputValue(), '', 'the password is not kept in the form')
      assert.deepEqual(await authenticate('sensor-1', 'first-password'), { ok: true, anonymous: false, superuser: false })
      await shot(p, 'device-users-01-added')

      await field(p, 'Username').fill('sensor-1')
      await field(p, 'Password').fill('other')
      await p.getByRole('button', { name: exactly('Add user') }).click()
      const username = field(p, 'Username')
      await p.locator('.field-error', { hasText: 'already has a device user "sensor-1"' }).waitFor()
      assert.equal(await username.getAttribute('aria-invalid'), 'true')
      assert.equal(await p.evaluate(() => (globalThis as any).document.activeElement?.id), await username.getAttribute('id'), 'the focus is on the field in error')
      await shot(p, 'device-users-02-taken')

      await p.getByRole('button', { name: exactly('Change password of sensor-1') }).click()
      const change = p.getByRole('dialog', { name: exactly('Change password of sensor-1') })
      await field(change, 'New password').fill('second-password')
      await change.getByRole('button', { name: exactly('Save password') }).click()
      await p.getByText('Password of sensor-1 changed.').waitFor()
      assert.deepEqual(await authenticate('sensor-1', 'second-password'), { ok: true, anonymous: false, superuser: false })
      assert.deepEqual(await authenticate('sensor-1', 'first-password'), { ok: false, reason: 'bad_username_or_password' })
      const logins = p.getByRole('region', { name: exactly('Logins since start') })
      await logins.getByText(/username sensor-1: 1 failed/).waitFor({ timeout: 15_000 })
      assert.match(await textOf(logins), /2 succeeded, 1 failed, 0 anonymous refused/)

      await p.getByRole('button', { name: exactly('Delete sensor-1') }).click()
      const confirm = p.getByRole('dialog', { name: exactly('Delete device user sensor-1?') })
      await confirm.getByRole('button', { name: exactly('Cancel') }).click()
      await confirm.waitFor({ state: 'detached' })
      assert.equal((await h.j.api('GET', `/api/v1/deployments/${DEP}/mqtt/users`)).body.data.length, 1, 'Cancel deletes nothing')
      await p.getByRole('button', { name: exactly('Delete sensor-1') }).click()
      await p.getByRole('dialog', { name: exactly('Delete device user sensor-1?') }).getByRole('button', { name: exactly('Delete') }).click()
      await p.getByText('Device user sensor-1 deleted.').waitFor()
      await p.getByRole('heading', { name: exactly('No device users yet') }).waitFor()
      assert.equal((await h.j.api('GET', `/api/v1/deployments/${DEP}/mqtt/users`)).body.data.length, 0)
      await assertNamedControls()
    })
  })

  it('ACL: add rules, move one up, a bad topic refused next to its field, default permission, save', async () => {
    const p = page()
    await step(p, 'acl', async () => {
      await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: exactly('ACL') }).click()
      await p.getByRole('heading', { level: 1, name: exactly('ACL') }).waitFor()
      await p.getByText('No rules: the default permission decides everything.').waitFor()

      await p.getByRole('button', { name: exactly('Add rule') }).click()
      await p.getByLabel(exactly('Topic of rule 1')).fill('devices/${clientid}/#')
      await p.getByRole('button', { name: exactly('Add rule') }).click()
      await p.getByLabel(exactly('Who of rule 2')).selectOption('username')
      await p.getByLabel(exactly('Username of rule 2')).fill('auditor')
      await p.getByLabel(exactly('Action of rule 2')).selectOption('subscribe')
      await p.getByLabel(exactly('Topic of rule 2')).fill('a/#/b')
      await p.getByLabel(exactly('Permission of rule 2')).selectOption('deny')
      await p.getByRole('button', { name: exactly('Move rule 2 up') }).click()
      assert.equal(await p.getByLabel(exactly('Topic of rule 1')).inputValue(), 'a/#/b', 'moved up')
      await p.getByLabel(exactly('Default permission')).selectOption('deny')

      await p.getByRole('button', { name: exactly('Save ACL') }).click()
      const topic1 = p.getByLabel(exactly('Topic of rule 1'))
      await p.locator('.field-error', { hasText: 'must be a whole level and the last one' }).waitFor()
      assert.equal(await topic1.getAttribute('aria-invalid'), 'true')
      assert.equal((await h.j.api('GET', `/api/v1/deployments/${DEP}/mqtt/acl`)).body.updatedAt, null, 'nothing saved')
      await shot(p, 'acl-01-bad-topic')

      await topic1.fill('audit/#')
      await p.getByRole('button', { name: exactly('Save ACL') }).click()
      await p.getByText(/^ACL saved\./).waitFor()
      await shot(p, 'acl-02-saved')
      const saved = (await h.j.api('GET', `/api/v1/deployments/${DEP}/mqtt/acl`)).body
      assert.deepEqual(saved.rules, [
        { who: { username: 'auditor' }, action: 'subscribe', topic: 'audit/#', permission: 'deny' },
        { who: 'all', action: 'all', topic: 'devices/${clientid}/#', permission: 'allow' },
      ])
      assert.equal(saved.default, 'deny')
      const perms = h.j.junction.deployments.access(DEP).permissions({ clientid: 'd1', username: 'auditor', superuser: false })
      assert.equal(perms.canSubscribe('audit/x'), false)
      assert.equal(perms.canPublish('devices/d1/t'), true)
      assert.equal(perms.canPublish('devices/d2/t'), false)

      await p.getByRole('button', { name: exactly('Remove rule 1') }).click()
      assert.equal(await p.getByLabel(exactly('Topic of rule 1')).inputValue(), 'devices/${clientid}/#')
      assert.equal(await p.getByLabel(exactly('Topic of rule 2')).count(), 0)
      await assertNamedControls()
    })
  })

  it('broker settings: allow anonymous clients and a limit; a bad value refused at its field', async () => {
    const p = page()
    await step(p, 'broker-settings', async () => {
      await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: exactly('Broker settings') }).click()
      await p.getByRole('heading', { level: 1, name: exactly('Broker settings') }).waitFor()
      const anonymous = p.getByLabel(exactly('Allow anonymous clients'))
      assert.equal(await anonymous.isChecked(), false)
      await anonymous.check()
      await field(p, 'Max packet size').fill('8')
      await p.getByRole('button', { name: exactly('Save settings') }).click()
      await p.locator('.field-error', { hasText: 'must be >= 16' }).waitFor()
      assert.equal(await field(p, 'Max packet size').getAttribute('aria-invalid'), 'true')
      assert.equal(h.j.junction.deployments.runtime(DEP).limits.allowAnonymous, false, 'nothing saved')

      await field(p, 'Max packet size').fill('65536')
      await field(p, 'Max connections').fill('100')
      await p.getByRole('button', { name: exactly('Save settings') }).click()
      await p.getByText('Broker settings saved.').waitFor()
      await shot(p, 'broker-settings-01-saved')
      const limits = h.j.junction.deployments.runtime(DEP).limits
      assert.deepEqual([limits.allowAnonymous, limits.maxPacketSize, limits.maxConnections, limits.maxMessageRate], [true, 65536, 100, null])
      await assertNamedControls()
      assertNoPageProblems(h)
    })
  })
})
