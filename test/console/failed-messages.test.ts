// The failed-message view of a rule action in a real browser: rows a PostgreSQL CHECK constraint
// refuses are listed with their reason and payload, one is shown in a dialog, one is discarded,
// and after the fix the rest are replayed from the console and land in PostgreSQL once each.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import type { Locator } from 'playwright-core'
import { device, randomName } from '../e2e/support.js'
import { eventually } from '../support/junction.js'
import { assertNoPageProblems, startConsoleWithPostgres, closeBrowser, exactly, login, printShots, shot, textOf, until, type ConsoleHarness } from './support.js'

const rulesApi = '/api/v1/deployments/default/rules'

describe('console: failed messages of a rule action', () => {
  let h: ConsoleHarness
  let db: pg.Client
  let ruleId = ''
  const table = randomName('failed_ui')

  let dispose: () => Promise<void> = async () => {}

  before(async () => {
    let connectorId: string
    ;({ h, db, connectorId, dispose } = await startConsoleWithPostgres('warehouse', table, `CREATE TABLE ${table} (seq integer NOT NULL, v integer CONSTRAINT ${table}_positive CHECK (v > 0))`))
    const rule = await h.j.api('POST', rulesApi, {
      name: 'checked', sql: 'SELECT payload.seq AS seq, payload.v AS v FROM "ui/#"',
      actions: [{ connectorId, params: { sql: `INSERT INTO ${table} (seq, v) VALUES (\${seq}, \${v})` }, options: { keepFailed: true } }],
    })
    assert.equal(rule.status, 201, JSON.stringify(rule.body))
    ruleId = rule.body.id
    const d = await device(h.j)
    for (let i = 0; i < 4; i++) await d.publishAsync('ui/1', JSON.stringify({ seq: i, v: -1 }), { qos: 1 })
    await d.endAsync()
    await eventually(() => h.j.api('GET', `${rulesApi}/${ruleId}/actions/0/failed-messages`), (r) => r.body.stored === 4, '4 kept')
  })
  after(async () => {
    await dispose()
    await closeBrowser()
    printShots()
  })

  it('lists, shows, discards and replays', async () => {
    const p = h.page
    await h.goto(`/#/deployments/default/rules/${ruleId}`)
    await login(p)
    await h.goto(`/#/deployments/default/rules/${ruleId}`)
    const section = p.getByRole('region', { name: exactly('Failed messages · action 1') })
    await section.waitFor()
    const kept = () => textOf(section.getByRole('term').filter({ hasText: exactly('Kept') }).locator('xpath=following-sibling::dd[1]'))
    const rows = () => section.getByRole('row').filter({ has: p.getByRole('checkbox') })
    await until(kept, (t) => t === '4', 'Kept 4')
    assert.equal(await rows().count(), 4)
    const first = rows().first()
    assert.match(await textOf(first), /Failed: CONSTRAINT_VIOLATION/)
    assert.match(await textOf(first), /"seq":0,"v":-1/)
    await shot(p, 'failed-messages')

    await first.getByRole('button', { name: /^Show failed message/ }).click()
    const dialog = p.getByRole('dialog')
    await dialog.waitFor()
    await until(() => textOf(dialog), (t) => /check constraint/i.test(t) && /"seq": 0/.test(t), 'the message and its error')
    await dialog.getByRole('button', { name: exactly('Close') }).click()
    await dialog.waitFor({ state: 'detached' })

    await (rows().first().getByRole('checkbox') as Locator).check()
    await section.getByRole('button', { name: exactly('Discard selected (1)') }).click()
    await until(kept, (t) => t === '3', 'Kept 3')
    assert.equal(await rows().count(), 3)

    // Discard all asks first; Cancel keeps them.
    await section.getByRole('button', { name: exactly('Discard all') }).click()
    const confirm = p.getByRole('dialog', { name: /Discard all failed messages of action 1/ })
    await confirm.getByRole('button', { name: exactly('Cancel') }).click()
    await confirm.waitFor({ state: 'detached' })
    assert.equal(await kept(), '3')

    await db.query(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_positive`)
    await section.getByRole('button', { name: exactly('Replay all') }).click()
    await until(kept, (t) => t === '0', 'Kept 0')
    await section.getByText(/No failed messages/).waitFor()
    const seqs = await until(async () => (await db.query(`SELECT seq FROM ${table} ORDER BY seq`)).rows.map((r) => r.seq), (s) => s.length >= 3, '3 rows')
    assert.deepEqual(seqs, [1, 2, 3], 'the discarded one is gone, the others arrived once')
    assertNoPageProblems(h)
  })
})
