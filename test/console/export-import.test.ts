// Export and import in the console, in a real browser: paste an export (secrets encrypted with a
// passphrase), see the plan (nothing
// changes yet), apply it, and the device user it brings back exists again (checked through the
// DeviceAccess the broker uses); applying is possible only for the document that was planned.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { assertNoPageProblems, cellOf, closeBrowser, exactly, field, login, printShots, rowWith, shot, startConsole, step, tableWithColumn, textOf, type ConsoleHarness } from './support.js'

const DEP = 'default'
const PASSPHRASE = 'passphrase for the console test'

describe('console: export and import', () => {
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

  it('paste an export, see the plan, apply it', async () => {
    const p = h.page
    assert.equal((await h.j.api('POST', `/api/v1/deployments/${DEP}/mqtt/users`, { username: 'sensor-9', password: 'device-pw-9' })).status, 201)
    const doc = await h.j.junction.app.inject({ method: 'GET', url: `/api/v1/export?deployment=${DEP}&format=yaml`, headers: { authorization: `Basic ${Buffer.from('test-key:test-secret-0123456789').toString('base64')}`, 'x-junction-passphrase': PASSPHRASE } })
    assert.equal(doc.statusCode, 200)
    assert.equal((await h.j.api('DELETE', `/api/v1/deployments/${DEP}/mqtt/users/sensor-9`)).status, 204)

    await step(p, 'transfer', async () => {
      await h.goto(`/#/deployments/${DEP}/connectors`)
      await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: exactly('Export and import') }).click()
      await p.getByRole('heading', { level: 1, name: exactly('Export and import') }).waitFor()
      const apply = p.getByRole('button', { name: exactly('Apply plan') })
      assert.equal(await apply.isDisabled(), true, 'no plan, no apply')
      await field(p, 'Document').fill(doc.body)
      await field(p, 'Passphrase').fill(PASSPHRASE)
      await p.getByRole('button', { name: exactly('Show plan') }).click()
      const table = tableWithColumn(p, 'Changes')
      const row = rowWith(table, 'sensor-9')
      await row.waitFor()
      assert.equal(await textOf(await cellOf(table, row, 'Action')), 'create')
      assert.equal((await h.j.api('GET', `/api/v1/deployments/${DEP}/mqtt/users`)).body.data.length, 0, 'the plan changed nothing')
      await shot(p, 'export-import-01-plan')

      await field(p, 'Document').fill(`${doc.body}\n`)
      assert.equal(await apply.isDisabled(), true, 'a changed document needs a new plan')
      await p.getByRole('button', { name: exactly('Show plan') }).click()
      await apply.click()
      await p.getByText('Imported: 1 created').waitFor()
      const login = await h.j.junction.deployments.access(DEP).authenticate({ clientid: 'browser-test', username: 'sensor-9', password: Buffer.from('device-pw-9'), peerhost: '127.0.0.1' })
      assert.equal(login.ok, true)
      await shot(p, 'export-import-02-applied')
    })
    assertNoPageProblems(h)
  })
})
