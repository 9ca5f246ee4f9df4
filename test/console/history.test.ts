// Change history on connector and rule details: versions with who, when and the diff (secrets
// masked), a revert behind a confirmation, and no revert button for viewers.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { NARROW, DESKTOP, assertNoPageProblems, closeBrowser, exactly, field, login, printShots, shot, startConsole, until, viewport, type ConsoleHarness } from './support.js'

const SECRET = 'Console-History-Pw-1618'

describe('console: change history', () => {
  let h: ConsoleHarness
  let connectorId: string
  let ruleId: string

  before(async () => {
    h = await startConsole()
    const base = '/api/v1/deployments/default/connectors'
    const c = await h.j.api('POST', base, { name: 'history-warehouse', type: 'postgresql', config: { host: '127.0.0.1', database: 'test', username: 'postgres', password: SECRET } })
    assert.equal(c.status, 201, JSON.stringify(c.body))
    connectorId = c.body.id
    assert.equal((await h.j.api('PUT', `${base}/${connectorId}`, { config: { ...c.body.config, host: 'localhost', password: `${SECRET}-2` } })).status, 200)
    const r = await h.j.api('POST', '/api/v1/deployments/default/rules', { name: 'history-rule', sql: 'SELECT payload.t AS t FROM "history/#"', actions: [] })
    ruleId = r.body.id
    assert.equal((await h.j.api('PUT', `/api/v1/deployments/default/rules/${ruleId}`, { sql: 'SELECT payload.t AS t FROM "history/#" WHERE payload.t > 20' })).status, 200)
    assert.equal((await h.j.api('POST', '/api/v1/users', { username: 'vic', password: 'viewer-password-1', role: 'viewer' })).status, 201)
  })
  after(async () => {
    await h?.close()
    await closeBrowser()
    printShots()
  })

  const historyRows = () => h.page.locator('section[aria-labelledby="history-title"] tbody tr')

  it('connector details: the versions with their diff, secrets masked; a confirmed revert adds a version', async () => {
    await h.goto(`/#/deployments/default/connectors/${connectorId}`)
    await login(h.page)
    await h.goto(`/#/deployments/default/connectors/${connectorId}`)
    await h.page.getByRole('heading', { name: exactly('History') }).waitFor({ state: 'visible' })
    await until(() => historyRows().count(), (n) => n === 2, 'two versions')
    const newest = await historyRows().first().innerText()
    assert.match(newest, /^2\s*current/)
    assert.match(newest, /Edited/)
    assert.match(newest, /config\.host: 127\.0\.0\.1 → localhost/)
    assert.match(newest, /config\.password: \*{6} → \*{6}/)
    assert.match(newest, /test-key \(API key\)/)
    assert.ok(!(await h.page.content()).includes(SECRET), 'no secret on the page')
    assert.equal(await historyRows().first().getByRole('button', { name: exactly('Revert to this version') }).count(), 0, 'the current version has no revert')
    await h.page.getByRole('heading', { name: exactly('History') }).scrollIntoViewIfNeeded()
    await shot(h.page, 'history-connector')

    await historyRows().nth(1).getByRole('button', { name: exactly('Revert to this version') }).click()
    const dialog = h.page.getByRole('dialog', { name: 'Revert to version 1?' })
    await dialog.waitFor({ state: 'visible' })
    assert.match(await dialog.innerText(), /its secrets included/)
    await shot(h.page, 'history-connector-confirm')
    await dialog.getByRole('button', { name: exactly('Revert') }).click()
    await h.page.getByText('Connector reverted to version 1.').waitFor({ state: 'visible' })
    await until(() => historyRows().count(), (n) => n === 3, 'the revert as a third version')
    assert.match(await historyRows().first().innerText(), /^3\s*current[\s\S]*Reverted[\s\S]*to version 1[\s\S]*config\.host: localhost → 127\.0\.0\.1/)
    const stored = await h.j.junction.store.connectors.get('default', connectorId)
    assert.equal(stored?.config.password, SECRET, 'the real secret of version 1, not the mask')
    assertNoPageProblems(h)
  })

  it('rule details: a revert puts the old SQL back', async () => {
    await h.goto(`/#/deployments/default/rules/${ruleId}`)
    await h.page.getByRole('heading', { name: exactly('History') }).waitFor({ state: 'visible' })
    await until(() => historyRows().count(), (n) => n === 2, 'two versions')
    assert.match(await historyRows().first().innerText(), /sql: SELECT payload\.t AS t FROM "history\/#" → SELECT payload\.t AS t FROM "history\/#" WHERE payload\.t > 20/)
    await historyRows().nth(1).getByRole('button', { name: exactly('Revert to this version') }).click()
    await h.page.getByRole('dialog', { name: 'Revert to version 1?' }).getByRole('button', { name: exactly('Revert') }).click()
    await h.page.getByText('Rule reverted to version 1.').waitFor({ state: 'visible' })
    await until(() => historyRows().count(), (n) => n === 3, 'three versions')
    const sql = await h.page.locator('section[aria-labelledby="rule-sql-view-title"]').innerText()
    assert.ok(!sql.includes('WHERE'), sql)
    await h.page.getByRole('heading', { name: exactly('History') }).scrollIntoViewIfNeeded()
    await shot(h.page, 'history-rule')
    await viewport(h.page, NARROW)
    await shot(h.page, 'history-rule-narrow')
    await viewport(h.page, DESKTOP)
    assertNoPageProblems(h)
  })

  it('a viewer sees the history but no revert button', async () => {
    await h.page.getByRole('button', { name: exactly('Log out') }).click()
    await field(h.page, 'Username').waitFor({ state: 'visible' })
    await field(h.page, 'Username').fill('vic')
    await field(h.page, 'Password').fill('viewer-password-1')
    await h.page.getByRole('button', { name: exactly('Log in') }).click()
    await h.page.getByRole('button', { name: exactly('Log out') }).waitFor({ state: 'visible' })
    await h.goto(`/#/deployments/default/connectors/${connectorId}`)
    await until(() => historyRows().count(), (n) => n === 3, 'three versions for the viewer')
    assert.equal(await h.page.getByRole('button', { name: exactly('Revert to this version') }).count(), 0)
    assertNoPageProblems(h)
  })
})
