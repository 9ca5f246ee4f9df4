// Two nodes on one fresh PostgreSQL database (docs/cluster.md): node-1 in this process serves the
// console, node-2 is a child process. A rule with a Redis action runs on both; devices publish 2
// messages through node-1 and 3 through node-2. The connector's and the rule's details then show
// a "Nodes" card with each node's figures and their total (5), which one node alone never shows.
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { after, before, describe } from 'node:test'
import mqtt from 'mqtt'
import { eventually } from '../support/junction.js'
import { junctionProcessSetup, startJunctionProcess } from '../support/junction-process.js'
import { privateDatabase } from '../support/postgres.js'
import { ADMIN_PASSWORD, assertNoPageProblems, chain, closeBrowser, exactly, login, rowWith, shot, startConsole, type ConsoleHarness } from './support.js'

const SECRET_KEY = 'the installation key for the console nodes test'
const connectorsApi = '/api/v1/deployments/default/connectors'
const rulesApi = '/api/v1/deployments/default/rules'

/** The body rows of a table, each its cells' texts joined by a space. */
async function rowTexts(table: import('playwright-core').Locator): Promise<string[]> {
  const rows = table.getByRole('row').filter({ hasNot: table.page().getByRole('columnheader') })
  const out: string[] = []
  for (const row of await rows.all()) out.push((await row.getByRole('cell').allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim()).join(' '))
  return out
}

describe('console: per-node figures with two nodes', () => {
  const databaseUrl = privateDatabase()
  let h: ConsoleHarness
  let second: ChildProcess | undefined
  let connectorId = ''
  let ruleId = ''
  const it = chain()

  before(async () => {
    // The first node makes the store; the second joins it.
    h = await startConsole({ databaseUrl, secretKey: SECRET_KEY, nodeName: 'node-1' })
    const setup = await junctionProcessSetup()
    second = await startJunctionProcess({ ...setup.env, JUNCTION_DATABASE_URL: databaseUrl, JUNCTION_SECRET_KEY: SECRET_KEY, JUNCTION_NODE_NAME: 'node-2', JUNCTION_ADMIN_PASSWORD: ADMIN_PASSWORD })
    const c = await h.j.api('POST', connectorsApi, { name: 'per-node-cache', type: 'redis', config: { servers: '127.0.0.1:6379' } })
    assert.equal(c.status, 201, JSON.stringify(c.body))
    connectorId = c.body.id
    const r = await h.j.api('POST', rulesApi, {
      name: 'per-node-rule', sql: 'SELECT payload FROM "per-node/#"',
      actions: [{ connectorId, params: { command: ['PUBLISH', 'junction-console-nodes-test', '${payload}'] } }],
    })
    assert.equal(r.status, 201, JSON.stringify(r.body))
    ruleId = r.body.id
    await eventually(() => setup.api('GET', `/rules/${ruleId}`), (x) => x.body.metrics !== null && x.body.nodes?.length === 2, 'the rule running on node-2', 15_000)
    await eventually(() => setup.api('GET', `/connectors/${connectorId}`), (x) => x.body.status === 'connected', 'the connector on node-2', 15_000)
    const ownPort = (await h.j.api('GET', '/api/v1/deployments/default')).body.mqtt.port as number
    for (const [port, count] of [[ownPort, 2], [setup.mqttPort, 3]] as const) {
      const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 })
      for (let i = 0; i < count; i++) await device.publishAsync('per-node/1', `m${i}`, { qos: 1 })
      await device.endAsync()
    }
    await eventually(() => h.j.api('GET', `${rulesApi}/${ruleId}`), (x) => x.body.totals?.perAction?.[0]?.success === 5 && x.body.nodes.length === 2, 'both nodes\' deliveries counted', 15_000)
    await eventually(() => h.j.api('GET', `${connectorsApi}/${connectorId}`), (x) => x.body.totals?.success === 5 && x.body.status === 'connected', 'the connector\'s totals', 15_000)
  }, { timeout: 120_000 })

  after(async () => {
    if (second && second.exitCode === null && second.signalCode === null) {
      second.kill('SIGKILL')
      await new Promise((r) => second!.once('exit', r))
    }
    await h?.close()
    await closeBrowser()
  })

  it('the connector\'s details show each node\'s status, delivery and counters, and the total', async () => {
    await h.goto('/')
    await login(h.page)
    await h.goto(`/#/deployments/default/connectors/${connectorId}`)
    const region = h.page.getByRole('region', { name: exactly('Nodes') })
    const table = region.getByRole('table')
    await rowWith(table, 'Total').waitFor()
    // Node, Status, Delivery, Matched, Success, Failed, Dropped, Queuing, Inflight, Rate.
    const rows = await rowTexts(table)
    assert.equal(rows.length, 3, JSON.stringify(rows))
    assert.match(rows[0]!, /^node-1 connected ok 2 2 0 0 0 0 /)
    assert.match(rows[1]!, /^node-2 connected ok 3 3 0 0 0 0 /)
    assert.match(rows[2]!, /^Total connected ok 5 5 0 0 0 0 /)
    await shot(h.page, 'connector-nodes')
    assertNoPageProblems(h)
  })

  it('the rule\'s details show each node\'s counters and each action\'s per node, with totals', async () => {
    await h.goto(`/#/deployments/default/rules/${ruleId}`)
    const region = h.page.getByRole('region', { name: exactly('Nodes') })
    await rowWith(region.getByRole('table').first(), 'Total').waitFor()
    const [rule, actions] = [region.getByRole('table').nth(0), region.getByRole('table').nth(1)]
    // Node, Matched, Passed, No result, Failed, Actions success, Actions failed, Actions discarded.
    assert.deepEqual(await rowTexts(rule), ['node-1 2 2 0 0 2 0 0', 'node-2 3 3 0 0 3 0 0', 'Total 5 5 0 0 5 0 0'])
    // Action, Node, Health, Matched, Success, Failed, Dropped, Queuing, Inflight.
    assert.deepEqual(await rowTexts(actions), ['#1 node-1 ok 2 2 0 0 0 0', '#1 node-2 ok 3 3 0 0 0 0', '#1 Total ok 5 5 0 0 0 0'])
    await shot(h.page, 'rule-nodes')
    assertNoPageProblems(h)
  })
})
