// The audit log page: changes made through the API appear with who, where from and what changed,
// the filters narrow the list, and the export answers JSON lines.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { NARROW, assertNoPageProblems, closeBrowser, exactly, login, printShots, shot, startConsole, until, viewport, type ConsoleHarness } from './support.js'

describe('console: audit log', () => {
  let h: ConsoleHarness

  before(async () => {
    h = await startConsole()
    await h.j.api('POST', '/api/v1/deployments/default/mqtt/users', { username: 'audited-device', password: 'device-password-1' })
    await h.j.api('PATCH', '/api/v1/deployments/default/mqtt/users/audited-device', { superuser: true })
    await h.j.api('POST', '/api/v1/api-keys', { key: 'audited-key', role: 'viewer' })
  })
  after(async () => {
    await h?.close()
    await closeBrowser()
    printShots()
  })

  it('lists the changes newest first, filters them, and exports JSON lines', async () => {
    await h.goto('/#/audit')
    await login(h.page)
    await h.goto('/#/audit')
    await h.page.getByRole('heading', { name: exactly('Audit log') }).waitFor({ state: 'visible' })
    const rows = h.page.locator('tbody tr')
    await until(() => rows.count(), (n) => n >= 3, 'three audit rows')
    const first = await rows.first().innerText()
    assert.match(first, /create/)
    assert.match(first, /api-key/)
    assert.match(first, /audited-key/)
    assert.match(first, /test-key \(API key\)/)
    await shot(h.page, 'audit-list')

    await h.page.getByLabel('Object').selectOption('device-user')
    await h.page.getByRole('button', { name: exactly('Filter') }).click()
    await until(() => rows.count(), (n) => n === 2, 'only the two device-user rows')
    assert.match(await rows.first().innerText(), /update[\s\S]*audited-device[\s\S]*superuser/)
    assert.ok(!(await h.page.content()).includes('device-password-1'), 'no password on the page')

    const download = h.page.waitForEvent('download')
    await h.page.getByRole('button', { name: exactly('Export (JSON lines)') }).click()
    const file = await download
    assert.equal(file.suggestedFilename(), 'junction-audit.jsonl')
    const lines = (await (await file.createReadStream()).toArray()).join('').trim().split('\n').map((l) => JSON.parse(l))
    assert.deepEqual(lines.map((e) => e.action), ['create', 'update'])

    await viewport(h.page, NARROW)
    await shot(h.page, 'audit-narrow')
    assertNoPageProblems(h)
  })
})
