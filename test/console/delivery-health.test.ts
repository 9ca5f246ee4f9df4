// Delivery health in a real browser: a PostgreSQL connector whose rule inserts into a table that
// was dropped; a real MQTT device publishes. The connector list shows "connected" and, next to
// it, an amber "delivery failing" pill with the reason on hover; the connector's details say why
// at the top and under "Delivery"; the rules list and the rule's details show the failing action
// (code, since) and the actions totals. Creating the table and one more message turn it all back
// to ok without a reload. Then another session locks the table: "delivery stalled" with how many
// wait, gone once the lock is. Screenshots at 1280x800 and the connectors list at 400x800.
import assert from 'node:assert/strict'
import { after, before, describe } from 'node:test'
import type { MqttClient } from 'mqtt'
import pg from 'pg'
import type { Locator, Page } from 'playwright-core'
import { device, randomName } from '../e2e/support.js'
import { eventually } from '../support/junction.js'
import { sharedPostgres } from '../support/postgres.js'
import { DESKTOP, NARROW, assertNoPageProblems, startConsoleWithPostgres, assertNoReload, cellOf, chain, closeBrowser, exactly, horizontalOverflow, login, markDocument, printShots, rowWith, shot, step, tableWithColumn, textOf, until, viewport, type ConsoleHarness } from './support.js'

const DEP = 'default'
const connectorsApi = `/api/v1/deployments/${DEP}/connectors`
const rulesApi = `/api/v1/deployments/${DEP}/rules`
const CONNECTOR = 'warehouse-health'
const RULE = 'readings-to-dropped-table'

/** The value (dd) of a definition-list term (dt) named exactly `term`. */
function valueOf(scope: Page | Locator, term: string): Locator {
  return scope.getByRole('term').filter({ hasText: exactly(term) }).first().locator('xpath=following-sibling::dd[1]')
}

describe('console: delivery health (failing PostgreSQL action while connected, then healed)', () => {
  let h: ConsoleHarness
  let db: pg.Client
  let locker: pg.Client | undefined
  let sensor: MqttClient | undefined
  let connectorId = ''
  let ruleId = ''
  const table = randomName('health_ui')
  const it = chain()

  let dispose: () => Promise<void> = async () => {}

  before(async () => {
    ;({ h, db, connectorId, dispose } = await startConsoleWithPostgres(CONNECTOR, table, `CREATE TABLE ${table} (clientid text, temp numeric)`))
    const r = await h.j.api('POST', rulesApi, {
      name: RULE, sql: 'SELECT clientid, payload.temp AS temp FROM "health-ui/#"',
      // TTL 16 s: stalled after 4 s (a quarter), long before blocked sends time out (the last step).
      actions: [{ connectorId, params: { sql: `INSERT INTO ${table} (clientid, temp) VALUES (\${clientid}, \${temp})` }, options: { requestTtlMs: 16_000 } }],
    })
    assert.equal(r.status, 201, JSON.stringify(r.body))
    ruleId = r.body.id
    // Saved while the table existed; now it is gone under the running rule.
    await db.query(`DROP TABLE ${table}`)
    sensor = await device(h.j, 'health-ui-sensor')
    for (let i = 0; i < 5; i++) await sensor.publishAsync('health-ui/1', JSON.stringify({ temp: 20 + i }), { qos: 1 })
    await eventually(() => h.j.api('GET', `${connectorsApi}/${connectorId}`), (x) => x.body.delivery?.state === 'failing', 'delivery failing', 15_000)
  })
  after(async () => {
    if (h?.problems.consoleErrors.length) console.log(`console.error in the page:\n  ${h.problems.consoleErrors.join('\n  ')}`)
    await locker?.end().catch(() => undefined)
    await sensor?.endAsync().catch(() => undefined)
    await dispose()
    await closeBrowser()
    printShots()
  })

  const page = () => h.page
  const connectorList = () => tableWithColumn(page(), 'Rules')

  it('connectors list: the status stays "connected" and an amber "delivery failing" pill next to it carries the reason', async () => {
    const p = page()
    await step(p, 'health-list-failing', async () => {
      await h.goto('/')
      await login(p)
      await h.goto(`/#/deployments/${DEP}/connectors`)
      await p.getByRole('heading', { level: 1, name: exactly('Connectors') }).waitFor()
      const row = rowWith(connectorList(), CONNECTOR)
      const status = await cellOf(connectorList(), row, 'Status')
      await status.getByText(exactly('delivery failing')).waitFor()
      assert.equal(await textOf(status), 'connected delivery failing')
      const pill = status.getByText(exactly('delivery failing'))
      const title = (await pill.getAttribute('title')) ?? ''
      assert.match(title, new RegExp(`^INVALID_STATEMENT: .*relation "${table}" does not exist`), `the reason on hover: ${title}`)
      const [connected, failing] = await Promise.all([status.getByText(exactly('connected')), pill].map((l) => l.evaluate((el) => (globalThis as any).getComputedStyle(el).color as string)))
      assert.notEqual(failing, connected, 'the delivery pill has its own colour, apart from the connection')
      await shot(p, 'health-01-connectors-failing')
      await viewport(p, NARROW)
      await shot(p, 'health-02-connectors-failing-narrow')
      assert.equal(await horizontalOverflow(p), 0, 'no horizontal overflow at 400 px')
      await viewport(p, DESKTOP)
    })
  })

  it('connector details: a notice at the top and "Delivery" with the code, the message and since when; "Status" still connected', async () => {
    const p = page()
    await step(p, 'health-details-failing', async () => {
      await rowWith(connectorList(), CONNECTOR).getByRole('link', { name: exactly(CONNECTOR) }).click()
      await p.getByRole('heading', { level: 1, name: exactly(CONNECTOR) }).waitFor()
      const notice = p.getByRole('status').filter({ hasText: 'Deliveries through this connector are failing' })
      await notice.waitFor()
      const text = await textOf(notice)
      assert.match(text, new RegExp(`INVALID_STATEMENT .*relation "${table}" does not exist`), text)
      assert.match(text, /1 rule action failing · since (just now|\d+ s ago)/, text)
      assert.match(await textOf(valueOf(p, 'Status')), /^connected since /)
      const delivery = await textOf(valueOf(p, 'Delivery'))
      assert.match(delivery, new RegExp(`^delivery failing since (just now|\\d+ s ago)\\s*INVALID_STATEMENT .*relation "${table}" does not exist`), delivery)
      await shot(p, 'health-03-connector-details-failing')
    })
  })

  it('rules list and rule details: the failing pill, the action\'s health under its target with the code, and actions total 5 / failed 5', async () => {
    const p = page()
    await step(p, 'health-rule-failing', async () => {
      await h.goto(`/#/deployments/${DEP}/rules`)
      await p.getByRole('heading', { level: 1, name: exactly('Rules') }).waitFor()
      const rules = tableWithColumn(p, 'Matched')
      const row = rowWith(rules, ruleId)
      await until(async () => textOf(await cellOf(rules, row, 'Status')), (t) => t === 'enabled delivery failing', 'the rule row shows delivery failing')
      await row.getByRole('link', { name: exactly(RULE) }).click()
      await p.getByRole('heading', { level: 1, name: exactly(RULE) }).waitFor()
      await p.locator('.title-row').getByText(exactly('delivery failing')).waitFor()
      assert.equal(await textOf(valueOf(p, 'Actions total')), '5')
      assert.equal(await textOf(valueOf(p, 'Actions failed')), '5')
      assert.equal(await textOf(valueOf(p, 'Actions success')), '0')
      const actions = tableWithColumn(p, 'Target')
      const actionRow = rowWith(actions, CONNECTOR)
      const target = await textOf(await cellOf(actions, actionRow, 'Target'))
      assert.match(target, new RegExp(`^${CONNECTOR} \\(PostgreSQL\\)\\s*delivery failing INVALID_STATEMENT · since (just now|\\d+ s ago)$`), target)
      assert.match(await textOf(await cellOf(actions, actionRow, 'Last error')), /does not exist/)
      await shot(p, 'health-04-rule-details-failing')
    })
  })

  it('creating the table and one more message: the rule details turn ok without a reload, and so do the connector pages', async () => {
    const p = page()
    await step(p, 'health-healed', async () => {
      await markDocument(p)
      await db.query(`CREATE TABLE ${table} (clientid text, temp numeric)`)
      await sensor!.publishAsync('health-ui/1', JSON.stringify({ temp: 30 }), { qos: 1 })
      const actions = tableWithColumn(p, 'Target')
      const actionRow = rowWith(actions, CONNECTOR)
      await until(async () => textOf(await cellOf(actions, actionRow, 'Target')), (t) => t === `${CONNECTOR} (PostgreSQL)`, 'the action health line gone (ok)', 15_000)
      assert.equal(await p.locator('.title-row').getByText(exactly('delivery failing')).count(), 0, 'no failing pill in the header')
      assert.equal(await textOf(valueOf(p, 'Actions success')), '1')
      assert.equal(await textOf(valueOf(p, 'Actions failed')), '5')
      await assertNoReload(p)
      await shot(p, 'health-05-rule-details-healed')

      await h.goto(`/#/deployments/${DEP}/connectors/${connectorId}`)
      await p.getByRole('heading', { level: 1, name: exactly(CONNECTOR) }).waitFor()
      await until(async () => textOf(valueOf(p, 'Delivery')), (t) => t === 'delivery ok', 'Delivery: ok')
      assert.equal(await p.getByRole('status').filter({ hasText: 'Deliveries through this connector' }).count(), 0, 'no notice once ok')
      await h.goto(`/#/deployments/${DEP}/connectors`)
      const row = rowWith(connectorList(), CONNECTOR)
      await until(async () => textOf(await cellOf(connectorList(), row, 'Status')), (t) => t === 'connected', 'only the connection status in the list')
      assert.deepEqual((await db.query(`SELECT clientid, temp FROM ${table}`)).rows, [{ clientid: 'health-ui-sensor', temp: '30' }])
      assertNoPageProblems(h)
    })
  })

  it('a lock holds the inserts: the list shows "delivery stalled" with how many wait; the lock goes and so does the pill', async () => {
    const p = page()
    await step(p, 'health-stalled', async () => {
      const shared = sharedPostgres()
      locker = new pg.Client({ host: shared.host, port: shared.port, database: shared.database, user: shared.user, password: shared.password })
      await locker.connect()
      await locker.query('BEGIN')
      await locker.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`)
      for (let i = 0; i < 2; i++) await sensor!.publishAsync('health-ui/1', JSON.stringify({ temp: 40 + i }), { qos: 1 })
      const row = rowWith(connectorList(), CONNECTOR)
      await until(async () => textOf(await cellOf(connectorList(), row, 'Status')), (t) => t === 'connected delivery stalled', 'the stalled pill', 12_000)
      const title = (await (await cellOf(connectorList(), row, 'Status')).getByText(exactly('delivery stalled')).getAttribute('title')) ?? ''
      assert.match(title, /^2 message\(s\) waiting; nothing delivered for \d+ s$/, title)
      await shot(p, 'health-06-connectors-stalled')
      await locker.query('COMMIT')
      await until(async () => textOf(await cellOf(connectorList(), row, 'Status')), (t) => t === 'connected', 'the pill gone once the rows are in')
      assert.equal(await count(), 3)
      assertNoPageProblems(h)
    })
  })

  async function count(): Promise<number> {
    return Number((await db.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n)
  }
})
