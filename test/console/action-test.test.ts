// The rule editor's Test action in a real browser: the SQL test's output becomes the action's
// sample; a PostgreSQL action tested with roll back answers "Delivered and rolled back" and leaves
// no row, without it the row is written; a missing table answers its code and PostgreSQL's
// message; saving the rule with that table is refused with the message under the SQL template.
import assert from 'node:assert/strict'
import { after, before, describe } from 'node:test'
import pg from 'pg'
import { randomName } from '../e2e/support.js'
import { assertNoPageProblems, startConsoleWithPostgres, chain, closeBrowser, exactly, field, login, printShots, shot, textOf, type ConsoleHarness } from './support.js'

const DEP = 'default'
const connectorsApi = `/api/v1/deployments/${DEP}/connectors`
const CONNECTOR = 'warehouse'

describe('console: Test action in the rule editor (PostgreSQL)', () => {
  let h: ConsoleHarness
  let db: pg.Client
  let connectorId = ''
  const table = randomName('action_ui')
  const it = chain()

  let dispose: () => Promise<void> = async () => {}

  before(async () => {
    ;({ h, db, connectorId, dispose } = await startConsoleWithPostgres(CONNECTOR, table, `CREATE TABLE ${table} (clientid text NOT NULL, temp numeric NOT NULL)`))
  })
  after(async () => {
    await dispose()
    await closeBrowser()
    printShots()
  })

  const page = () => h.page
  const action = () => page().getByRole('group', { name: exactly('Action 1') })
  const testButton = () => action().getByRole('button', { name: exactly('Test action') })
  const rows = async () => (await db.query(`SELECT clientid, temp FROM ${table} ORDER BY clientid`)).rows.map((r) => [r.clientid, Number(r.temp)])

  async function testAction(): Promise<string> {
    const before = await action().locator('.probe').count()
    await testButton().click()
    // "Testing…" while the request runs; then one result (status or alert).
    await page().waitForFunction(() => !(globalThis as any).document.querySelector('.action-test button[disabled]'), undefined, { timeout: 15_000 })
    assert.ok(before <= 1)
    const result = action().locator('.probe')
    await result.waitFor()
    return textOf(result)
  }

  it('the SQL test output becomes the sample; with roll back the action answers "Delivered and rolled back" and no row stays', async () => {
    const p = page()
    await h.goto('/')
    await login(p)
    await h.goto(`/#/deployments/${DEP}/rules/new`)
    await p.getByRole('heading', { level: 1, name: exactly('New rule') }).waitFor()
    await field(p, 'Name').fill('ui-action-test')
    await p.getByRole('textbox', { name: exactly('SQL') }).fill('SELECT clientid, payload.temp AS temp FROM "sensors/#"')
    await field(p, 'Payload').fill('{"temp": 21.5}')
    await field(p, 'Client ID').fill('ui-1')
    await p.getByRole('button', { name: exactly('Test SQL') }).click()
    await p.getByText('Matched. Output:').waitFor()

    // A new rule offers "Send to" at once, without "Add action".
    await action().waitFor()
    await field(action(), 'Send to').selectOption({ label: `${CONNECTOR} · PostgreSQL (${connectorId})` })
    await field(action(), 'SQL template').fill(`INSERT INTO ${table} (clientid, temp) VALUES (\${clientid}, \${temp})`)
    await action().locator('summary').filter({ hasText: /^Try this action/ }).click()
    const sample = JSON.parse(await field(action(), 'Sample output (JSON)').inputValue()) as Record<string, unknown>
    assert.deepEqual(sample, { clientid: 'ui-1', temp: 21.5 }, 'the SQL test output is the sample')
    assert.equal(await field(action(), 'Roll back').isChecked(), true, 'roll back is on by default for SQL databases')

    const text = await testAction()
    assert.match(text, /^Delivered and rolled back in [\d.]+ ms$/, text)
    assert.equal(await action().getByRole('status').filter({ hasText: /Delivered/ }).count(), 1)
    assert.deepEqual(await rows(), [], 'rolled back: no row')
    await shot(p, 'action-test-01-rolled-back')
  })

  it('without roll back the row is written', async () => {
    await field(action(), 'Roll back').uncheck()
    const text = await testAction()
    assert.match(text, /^Delivered in [\d.]+ ms$/, text)
    assert.deepEqual(await rows(), [['ui-1', 21.5]])
  })

  it('a missing table: the test answers INVALID_STATEMENT with PostgreSQL\'s message; Save is refused under the SQL template', async () => {
    const p = page()
    await field(action(), 'SQL template').fill('INSERT INTO no_such_table_ui (clientid) VALUES (${clientid})')
    const text = await testAction()
    assert.match(text, /Delivery failed \(INVALID_STATEMENT, permanent\): .*relation "no_such_table_ui" does not exist/, text)
    assert.equal(await action().getByRole('alert').filter({ hasText: /INVALID_STATEMENT/ }).count(), 1)
    await shot(p, 'action-test-02-failed')

    await p.getByRole('button', { name: exactly('Save') }).click()
    const error = action().locator('.field-error').filter({ hasText: /relation "no_such_table_ui" does not exist/ })
    await error.waitFor()
    assert.match(p.url(), /rules\/new$/, 'still on the form: nothing saved')
    assert.equal((await h.j.api('GET', `/api/v1/deployments/${DEP}/rules`)).body.data.length, 0)
    await shot(p, 'action-test-03-save-refused')
    assertNoPageProblems(h)
  })
})
