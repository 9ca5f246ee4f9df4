// The rules flow in a real browser (docs/console-contract.md names): the empty Rules page, a new
// rule whose SQL is tried in the Test panel (a match, a miss, a syntax error with line and
// column), a PostgreSQL action, Save; then a real MQTT device publishes and the details page
// counts the messages, the action's successes and draws the chart without a reload, while the
// rows land in PostgreSQL; the connector shows the rule (list count, delete dialog); the rule is
// disabled and deleted from the list. Screenshots at 1280x800, the form also at 400x800.
import assert from 'node:assert/strict'
import { after, before, describe, it as independent } from 'node:test'
import type { MqttClient } from 'mqtt'
import pg from 'pg'
import type { Locator, Page } from 'playwright-core'
import { device, randomName } from '../e2e/support.js'
import { eventually } from '../support/junction.js'
import { sharedPostgres } from '../support/postgres.js'
import { DESKTOP, NARROW, assertNoPageProblems, assertNoReload, cellOf, chain, closeBrowser, columnHeaders, exactly, field, horizontalOverflow, login, markDocument, printShots, rowWith, shot, startConsole, step, tableWithColumn, textOf, viewport, type ConsoleHarness, until } from './support.js'

const DEP = 'default'
const connectorsApi = `/api/v1/deployments/${DEP}/connectors`
const rulesApi = `/api/v1/deployments/${DEP}/rules`
const RULE = 'hot-readings'
const CONNECTOR = 'warehouse'
const SQL = 'SELECT clientid, payload.temp AS temp FROM "sensors/#" WHERE payload.temp > 20'

/** The value (dd) of a stat or definition-list term (dt) named exactly `term`. */
function valueOf(scope: Page | Locator, term: string): Locator {
  return scope.getByRole('term').filter({ hasText: exactly(term) }).first().locator('xpath=following-sibling::dd[1]')
}

describe('console: rules flow (SQL test panel, PostgreSQL action, live metrics)', () => {
  let h: ConsoleHarness
  let db: pg.Client
  let sensor: MqttClient | undefined
  let connectorId = ''
  let ruleId = ''
  const table = randomName('rules_ui')
  const overflow: string[] = []
  const it = chain()

  before(async () => {
    const shared = sharedPostgres()
    db = new pg.Client({ host: shared.host, port: shared.port, database: shared.database, user: shared.user, password: shared.password })
    ;[h] = await Promise.all([startConsole(), db.connect()])
    await db.query(`CREATE TABLE ${table} (clientid text NOT NULL, temp numeric NOT NULL)`)
    const c = await h.j.api('POST', connectorsApi, {
      name: CONNECTOR, type: 'postgresql', config: { host: shared.host, port: shared.port, database: shared.database, username: shared.user },
    })
    assert.equal(c.status, 201, JSON.stringify(c.body))
    connectorId = c.body.id
    await eventually(() => h.j.api('GET', `${connectorsApi}/${connectorId}`), (r) => r.body.status === 'connected', 'the connector connected', 10_000)
  })
  after(async () => {
    if (overflow.length) console.log(`horizontal overflow at ${NARROW.width}px: ${overflow.join('; ')}`)
    if (h?.problems.consoleErrors.length) console.log(`console.error in the page:\n  ${h.problems.consoleErrors.join('\n  ')}`)
    await sensor?.endAsync().catch(() => undefined)
    await h?.close()
    await db?.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined)
    await db?.end().catch(() => undefined)
    await closeBrowser()
    printShots()
  })

  const page = () => h.page
  const sqlBox = () => page().getByRole('textbox', { name: exactly('SQL') })
  const testOutput = () => page().getByRole('status').filter({ has: page().locator('.test-output-title') })
  const rulesTable = () => tableWithColumn(page(), 'Matched')

  async function narrowShot(name: string): Promise<void> {
    await viewport(page(), NARROW)
    await shot(page(), name)
    const px = await horizontalOverflow(page())
    if (px > 0) overflow.push(`${name} +${px}px`)
    await viewport(page(), DESKTOP)
  }

  async function runTest(): Promise<void> {
    const p = page()
    const button = p.getByRole('button', { name: exactly('Test SQL') })
    await button.click()
    // The button reads "Testing…" (disabled) while the request runs.
    await p.waitForFunction(() => !(globalThis as any).document.querySelector('.test-panel button[disabled]'), undefined, { timeout: 10_000 })
  }

  it('login, then the Rules page of a deployment without rules: the empty state offers "New Rule"', async () => {
    const p = page()
    await step(p, 'rules-empty', async () => {
      await h.goto('/')
      await login(p)
      await h.goto(`/#/deployments/${DEP}/connectors`)
      await p.getByRole('heading', { level: 1, name: exactly('Connectors') }).waitFor()
      await p.getByRole('link', { name: exactly('Rules') }).first().click()
      await p.waitForURL(new RegExp(`#/deployments/${DEP}/rules$`))
      await p.getByRole('heading', { level: 1, name: exactly('Rules') }).waitFor()
      await p.getByRole('heading', { name: exactly('No rules yet') }).waitFor()
      assert.equal(await p.getByRole('table').count(), 0, 'no rules table without rules')
      assert.equal(await p.getByRole('button', { name: exactly('New Rule') }).count(), 1, 'one "New Rule" button (in the empty state)')
      await shot(p, 'rules-01-empty')
    })
  })

  it('New Rule: the SQL matches a hot sample, misses a cold one; a syntax error shows line and column', async () => {
    const p = page()
    await step(p, 'rules-form-test', async () => {
      await p.getByRole('button', { name: exactly('New Rule') }).click()
      await p.waitForURL(new RegExp(`#/deployments/${DEP}/rules/new$`))
      await p.getByRole('heading', { level: 1, name: exactly('New rule') }).waitFor()
      await field(p, 'Name').fill(RULE)
      await sqlBox().fill(SQL)
      await field(p, 'Topic').fill('sensors/1')
      await field(p, 'Payload').fill('{"temp": 25}')
      await runTest()
      const out = testOutput()
      await out.filter({ hasText: /Matched\. Output:/ }).waitFor()
      const text = await textOf(out)
      assert.match(text, /"temp": 25\b(?!\.)/, `the output shows "temp": 25: ${text}`)
      const json = JSON.parse(await out.locator('pre').innerText()) as Record<string, unknown>
      assert.equal(json.temp, 25, `output ${JSON.stringify(json)}`)
      assert.deepEqual(Object.keys(json).sort(), ['clientid', 'temp'], `only the selected fields: ${JSON.stringify(json)}`)
      await shot(p, 'rules-02-form-test-matched')
    })
    await step(p, 'rules-form-test-cold', async () => {
      await field(p, 'Payload').fill('{"temp": 5}')
      await runTest()
      const out = testOutput()
      await out.filter({ hasText: /Not matched/ }).waitFor()
      assert.doesNotMatch(await textOf(out), /Output:/, 'a cold reading has no output')
    })
    await step(p, 'rules-form-sql-error', async () => {
      await sqlBox().fill('SELECT FROM')
      await runTest()
      const alert = p.getByRole('alert').filter({ hasText: /SQL error/ })
      await alert.waitFor({ state: 'visible' })
      const text = await textOf(alert)
      assert.match(text, /SQL error at line 1, column \d+: \S/, `the error with line and column: ${text}`)
      assert.equal(await testOutput().count(), 0, 'no stale output next to the error')
      assert.equal(await p.locator('.sql-editor .sql-error-mark').count(), 1, 'the editor underlines the error position')
      await shot(p, 'rules-03-form-sql-error')
    })
    await step(p, 'rules-form-sql-fixed', async () => {
      await sqlBox().fill(SQL)
      assert.equal(await p.locator('.sql-editor .sql-error-mark').count(), 0, 'the underline goes with the edit')
      await field(p, 'Payload').fill('{"temp": 25}')
      await runTest()
      await testOutput().filter({ hasText: /Matched\. Output:/ }).waitFor()
      assert.equal(await p.getByRole('alert').filter({ hasText: /SQL error/ }).count(), 0, 'the SQL error is gone after a good test')
    })
  })

  it('Add action: the PostgreSQL connector with an INSERT template; Save opens the enabled rule', async () => {
    const p = page()
    await step(p, 'rules-action-save', async () => {
      // The new rule form shows "Send to" without "Add action"; only one action is offered.
      const action = p.getByRole('group', { name: exactly('Action 1') })
      await action.waitFor()
      assert.ok(await field(action, 'Send to').isVisible(), '"Send to" visible without pressing "Add action"')
      assert.equal(await p.getByRole('group', { name: exactly('Action 2') }).count(), 0)
      await field(action, 'Send to').selectOption({ label: `${CONNECTOR} · PostgreSQL (${connectorId})` })
      const template = field(action, 'SQL template')
      await template.waitFor()
      await template.fill(`INSERT INTO ${table} (clientid, temp) VALUES (\${clientid}, \${temp})`)
      // A fallback: what the table finally refuses is republished to $failed/<topic>.
      await action.locator('summary').filter({ hasText: /^Fallback/ }).click()
      await field(action, 'Send the messages action 1 finally fails to a fallback').check()
      await field(action, 'Fallback of action 1').selectOption({ label: 'Republish into this deployment' })
      const fallbackTopic = field(action, 'Topic template')
      await fallbackTopic.waitFor()
      await fallbackTopic.fill('$failed/${topic}')
      await shot(p, 'rules-04-form-with-action')
      await narrowShot('rules-04n-form-narrow')
      await p.getByRole('button', { name: exactly('Save') }).click()
      await p.waitForURL(new RegExp(`#/deployments/${DEP}/rules/r-[a-z0-9]+$`))
      ruleId = /rules\/(r-[a-z0-9]+)$/.exec(p.url())![1]!
      await p.getByRole('heading', { level: 1, name: exactly(RULE) }).waitFor()
      await p.locator('.page-header').getByText('enabled', { exact: true }).waitFor()
      await p.getByRole('button', { name: exactly('Disable rule') }).waitFor()
      const stored = (await h.j.api('GET', `${rulesApi}/${ruleId}`)).body
      assert.equal(stored.enabled, true)
      assert.equal(stored.sql, SQL)
      assert.equal(stored.actions.length, 1)
      assert.equal(stored.actions[0].connectorId, connectorId)
      assert.equal(stored.actions[0].params.sql, `INSERT INTO ${table} (clientid, temp) VALUES (\${clientid}, \${temp})`)
      assert.equal(stored.actions[0].fallback.builtin, 'republish')
      assert.equal(stored.actions[0].fallback.params.topic, '$failed/${topic}')
      await p.getByText(/^Fallback: Republish/).waitFor()
    })
  })

  it('20 messages from a real MQTT client: the details count them live, the action succeeds 10 times, the chart draws', async () => {
    const p = page()
    await step(p, 'rules-details-live', async () => {
      await valueOf(p, 'Matched').waitFor()
      assert.equal(await textOf(valueOf(p, 'Matched')), '0', 'nothing matched before the device publishes')
      await markDocument(p)
      sensor = await device(h.j, 'sensor-ui')
      for (let i = 0; i < 20; i++) {
        await sensor.publishAsync(`sensors/${i % 4}`, JSON.stringify({ temp: i % 2 === 0 ? 21 + i : 20 - i }), { qos: 1 })
      }
      const stats = async () => ({ matched: await textOf(valueOf(p, 'Matched')), passed: await textOf(valueOf(p, 'Passed')), failed: await textOf(valueOf(p, 'Failed')) })
      await until(stats, (s) => s.matched === '20' && s.passed === '10', 'Matched 20 and Passed 10 on the page')
      assert.equal((await stats()).failed, '0', 'no SQL failures')
      const actions = tableWithColumn(p, 'Success')
      const row = rowWith(actions, CONNECTOR)
      assert.equal(await row.count(), 1, 'one action row')
      assert.match(await textOf(await cellOf(actions, row, 'Target')), new RegExp(`^${CONNECTOR} \\(PostgreSQL\\)\\s*Fallback: Republish to \\$failed/\\$\\{topic\\} · 0 sent, 0 lost$`))
      const success = await cellOf(actions, row, 'Success')
      await until(() => textOf(success), (t) => t === '10', 'the action\'s Success = 10', 15_000)
      assert.equal(await textOf(await cellOf(actions, row, 'Failed')), '0')
      assert.equal(await textOf(await cellOf(actions, row, 'Last error')), '—')
      const chart = p.getByRole('figure', { name: /Messages per second \(last minute\)/ })
      await chart.waitFor()
      assert.match(await textOf(chart.locator('figcaption')), /Messages per second \(last minute\)/)
      // The "matched" line (the first path) leaves the zero baseline once the counts reach the chart.
      const peak = () => chart.locator('path').first().getAttribute('d').then((d) => {
        const ys = [...(d ?? '').matchAll(/[ML][\d.]+,([\d.]+)/g)].map((m) => Number(m[1]))
        return ys.length ? Math.max(...ys) - Math.min(...ys) : 0
      })
      await until(peak, (dy) => dy > 10, 'the matched line to rise above the baseline')
      await assertNoReload(p)
      await shot(p, 'rules-05-details-chart')
      await narrowShot('rules-05n-details-narrow')

      const rows = (await db.query(`SELECT clientid, temp::float8 AS temp FROM ${table} ORDER BY temp`)).rows as Array<{ clientid: string; temp: number }>
      assert.equal(rows.length, 10, `10 rows in ${table}`)
      assert.ok(rows.every((r) => r.clientid === 'sensor-ui' && r.temp > 20), `only hot readings from sensor-ui: ${JSON.stringify(rows)}`)
      assert.deepEqual(rows.map((r) => r.temp), [21, 23, 25, 27, 29, 31, 33, 35, 37, 39])
    })
  })

  it('the connector shows the rule: Rules = 1 in the list, and its delete dialog names the rule', async () => {
    const p = page()
    await step(p, 'rules-connector-in-use', async () => {
      await p.getByRole('link', { name: exactly('Connectors') }).first().click()
      const list = tableWithColumn(p, 'ID')
      await list.waitFor()
      const row = rowWith(list, CONNECTOR)
      await until(async () => textOf(await cellOf(list, row, 'Rules')), (t) => t === '1', 'Rules = 1 for the connector')
      await row.getByRole('button', { name: exactly(`Delete ${CONNECTOR}`) }).click()
      const dialog = p.getByRole('dialog')
      await dialog.waitFor({ state: 'visible' })
      await dialog.getByText(/used by 1 rule\./).waitFor()
      const link = dialog.getByRole('link', { name: exactly(RULE) })
      await link.waitFor()
      assert.match((await link.getAttribute('href')) ?? '', new RegExp(`/rules/${ruleId}$`))
      assert.equal(await dialog.getByRole('button', { name: exactly('Delete') }).count(), 0, 'no Delete button while the rule uses it')
      await shot(p, 'rules-06-connector-delete-in-use')
      await dialog.getByRole('button', { name: exactly('Cancel') }).click()
      await dialog.waitFor({ state: 'hidden' })
      assert.equal((await h.j.api('GET', `${connectorsApi}/${connectorId}`)).status, 200, 'the connector is still there')
    })
  })

  it('the Rules list: disable the rule (status "disabled", no more deliveries), then delete it', async () => {
    const p = page()
    await step(p, 'rules-list-disable', async () => {
      await p.getByRole('link', { name: exactly('Rules') }).first().click()
      await p.waitForURL(new RegExp(`#/deployments/${DEP}/rules$`))
      const list = rulesTable()
      await list.waitFor()
      const headers = await columnHeaders(list)
      for (const c of ['Name', 'ID', 'Status', 'Matched', 'Rate', 'Actions']) assert.ok(headers.includes(c), `column "${c}" in ${JSON.stringify(headers)}`)
      const row = rowWith(list, ruleId)
      assert.equal(await row.count(), 1)
      await (await cellOf(list, row, 'Name')).getByRole('link', { name: exactly(RULE) }).waitFor()
      assert.equal(await textOf(await cellOf(list, row, 'ID')), ruleId)
      assert.equal(await textOf(await cellOf(list, row, 'Status')), 'enabled')
      assert.equal(await textOf(await cellOf(list, row, 'Matched')), '20')
      await shot(p, 'rules-07-list')
      await row.getByRole('button', { name: exactly(`Disable ${RULE}`) }).click()
      await row.getByRole('button', { name: exactly(`Enable ${RULE}`) }).waitFor()
      assert.equal(await textOf(await cellOf(list, row, 'Status')), 'disabled')
      assert.equal((await h.j.api('GET', `${rulesApi}/${ruleId}`)).body.enabled, false, 'stored as disabled')
      await sensor!.publishAsync('sensors/9', JSON.stringify({ temp: 99 }), { qos: 1 })
      await new Promise((r) => setTimeout(r, 600))
      assert.equal(Number((await db.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n), 10, 'a disabled rule writes nothing')
      await shot(p, 'rules-08-list-disabled')
    })
    await step(p, 'rules-list-delete', async () => {
      const list = rulesTable()
      await rowWith(list, ruleId).getByRole('button', { name: exactly(`Delete ${RULE}`) }).click()
      const dialog = p.getByRole('dialog', { name: exactly(`Delete rule ${RULE}?`) })
      await dialog.waitFor({ state: 'visible' })
      await dialog.getByRole('button', { name: exactly('Delete') }).click()
      await dialog.waitFor({ state: 'hidden' })
      await p.getByRole('heading', { name: exactly('No rules yet') }).waitFor()
      assert.equal(await p.getByRole('link', { name: exactly(RULE) }).count(), 0, 'the rule is gone from the page')
      assert.equal((await h.j.api('GET', `${rulesApi}/${ruleId}`)).status, 404)
      const freed = (await h.j.api('GET', `${connectorsApi}/${connectorId}`)).body
      assert.deepEqual([freed.ruleCount, freed.rules], [0, []], 'the connector is free again')
    })
  })

  independent('the page made no non-loopback requests, threw nothing, and got no 5xx', () => {
    assertNoPageProblems(h)
  })
})
