// The Broker page (Device access > Broker) in a real browser, fed by real MQTT clients of the
// deployment's broker: the "Clients connected" tile follows clients connecting, "Received" counts
// their publishes and the chart shows a non-zero received rate while they publish; a subscriber
// that never reads (a raw socket, QoS 1, with Max queued messages lowered to 5) makes queue_full
// non-zero and highlighted while the other reasons stay plain. Every figure the page shows is
// checked against GET /mqtt/stats. Then the page at 400 px (no sideways scrolling, the drops
// table stacked) and with the deployment stopped (not running, Start brings the figures back).
// Screenshots: broker-01-live.png, broker-02-narrow.png, broker-03-not-running.png.
import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import { after, before, describe } from 'node:test'
import mqtt, { type MqttClient } from 'mqtt'
import type { Locator, Page } from 'playwright-core'
import {
  NARROW, DESKTOP, assertNoPageProblems, cellOf, chain, closeBrowser, exactly, horizontalOverflow, login, printShots, rowWith, shot, startConsole, step,
  tableWithColumn, textOf, unnamedInteractive, until, viewport, type ConsoleHarness,
} from './support.js'
import { stuckSubscriber } from '../broker/support.js'

const DEP = 'default'
const depApi = `/api/v1/deployments/${DEP}`

/** A tile of the page: a group named by its figure; its second line is the value ("1,234"). */
async function tileValue(page: Page, name: string): Promise<number> {
  const lines = (await page.getByRole('group', { name: exactly(name) }).innerText()).split('\n').map((l) => l.trim()).filter(Boolean)
  const n = Number((lines[1] ?? '').replace(/[,\s\u202f\u00a0]/g, ''))
  return Number.isFinite(n) ? n : NaN
}

/** The number in a cell of the drops table (its label is drawn by CSS, not in the text). */
async function countIn(cell: Locator): Promise<number> {
  return Number((await textOf(cell)).replace(/[^\d]/g, ''))
}

describe('console: the Broker page shows the broker of a deployment live', () => {
  let h: ConsoleHarness
  let port = 0
  const clients: MqttClient[] = []
  const sockets: Socket[] = []
  const it = chain()
  const page = () => h.page
  const connect = async (clientId: string) => {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 5, reconnectPeriod: 0, clientId })
    clients.push(c)
    return c
  }
  const apiStats = async () => (await h.j.api('GET', `${depApi}/mqtt/stats`)).body

  before(async () => {
    h = await startConsole()
    const r = await h.j.api('PATCH', depApi, { mqtt: { maxQueuedMessages: 5 } })
    assert.equal(r.status, 200, JSON.stringify(r.body))
    port = r.body.mqtt.port
    assert.ok(port > 0, 'the deployment listens')
  })
  after(async () => {
    for (const s of sockets) s.destroy()
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)))
    if (h?.problems.consoleErrors.length) console.log(`console.error in the page:\n  ${h.problems.consoleErrors.join('\n  ')}`)
    await h?.close()
    await closeBrowser()
    printShots()
  })

  it('the Broker link under Device access opens the page with its figures', async () => {
    const p = page()
    await step(p, 'broker-open', async () => {
      await h.goto(`/#/deployments/${DEP}/connectors`)
      await login(p)
      await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: exactly('Broker') }).click()
      await p.getByRole('heading', { level: 1, name: exactly('Broker') }).waitFor()
      assert.match(p.url(), /#\/deployments\/default\/mqtt\/broker$/)
      const live = p.getByRole('region', { name: exactly('Live figures') })
      await live.waitFor()
      for (const name of ['Clients connected', 'Sessions', 'Subscriptions', 'Retained', 'Queued', 'Inflight']) {
        assert.ok(Number.isFinite(await tileValue(p, name)), `tile "${name}" shows a number`)
      }
      assert.equal(await tileValue(p, 'Clients connected'), 0, 'no client yet')
      await p.getByRole('region', { name: exactly('Device addresses') }).getByRole('button', { name: exactly(`Copy mqtt://127.0.0.1:${port}`) }).waitFor()
    })
  })

  it('clients connecting and publishing: the connected count, Received and the received rate follow', async () => {
    const p = page()
    await step(p, 'broker-clients', async () => {
      const sub = await connect('console-sub')
      let got = 0
      sub.on('message', () => { got++ })
      await sub.subscribeAsync('sensors/#', { qos: 1 })
      const pub = await connect('console-pub')
      await connect('console-idle')
      const shown = await until(() => tileValue(p, 'Clients connected'), (n) => n === 3, 'the page to show 3 clients connected')
      assert.equal(shown, (await apiStats()).connections, 'the tile is the API figure')
      assert.ok((await tileValue(p, 'Subscriptions')) >= 1, 'the subscription counts')

      // A steady stream, so successive readings differ and the chart has a rate to draw.
      let sent = 0
      const stream = setInterval(() => { void pub.publishAsync(`sensors/${sent++ % 5}`, JSON.stringify({ temp: 21 }), { qos: 1 }).catch(() => undefined) }, 40)
      try {
        const chart = p.getByRole('img', { name: /^Messages per second \(last minute\)/ })
        const label = await until(async () => (await chart.getAttribute('aria-label')) ?? '', (l) => /received [1-9]/.test(l), 'a non-zero received rate in the chart', 15_000)
        assert.match(label, /sent [1-9]/, 'the subscriber gets them: a sent rate too')
      } finally {
        clearInterval(stream)
      }
      const received = await until(() => tileValue(p, 'Received'), (n) => n >= 20, 'Received to count the publishes')
      assert.ok(received <= (await apiStats()).received, `the page shows at most what the broker counted (${received})`)
      assert.ok(got > 0, 'the real subscriber got messages')
      await p.getByRole('figure').getByText('Messages per second (last minute)').waitFor()
    })
  })

  it('a subscriber that never reads: queue_full becomes non-zero and highlighted, the other reasons stay plain', async () => {
    const p = page()
    await step(p, 'broker-queue-full', async () => {
      const table = tableWithColumn(p, 'What it means')
      for (const reason of ['queue_full', 'expired', 'no_local', 'qos0_msg', 'too_large']) {
        const row = rowWith(table, reason)
        await row.waitFor()
        assert.ok((await textOf(await cellOf(table, row, 'What it means'))).length > 20, `${reason} is explained`)
      }
      assert.match(await textOf(rowWith(table, 'too_large')), /Maximum Packet Size/)
      assert.match(await textOf(rowWith(table, 'qos0_msg')), /offline persistent session/)
      const queueFull = rowWith(table, 'queue_full')
      assert.equal(await countIn(await cellOf(table, queueFull, 'Dropped')), 0, 'nothing dropped yet')

      sockets.push(await stuckSubscriber(port, 'flood/#', () => until(async () => (await apiStats()).subscriptions, (n) => n >= 2, 'the stuck subscription to exist')))

      const pub = await connect('flooder')
      // More than the session's inflight window plus its queue of 5: the rest cannot be kept.
      await Promise.all(Array.from({ length: 200 }, (_, i) => pub.publishAsync(`flood/${i % 10}`, 'x', { qos: 1 })))
      const dropped = await until(async () => countIn(await cellOf(table, queueFull, 'Dropped')), (n) => n > 0, 'queue_full to be non-zero on the page')
      assert.ok(dropped <= (await apiStats()).dropped.queue_full, 'the page shows the API figure')
      assert.equal(await (await cellOf(table, queueFull, 'Dropped')).locator('mark').count(), 1, 'the non-zero count is highlighted')
      for (const reason of ['expired', 'no_local', 'qos0_msg', 'too_large']) {
        const cell = await cellOf(table, rowWith(table, reason), 'Dropped')
        assert.equal(await countIn(cell), 0, `${reason} stays 0`)
        assert.equal(await cell.locator('mark').count(), 0, `${reason} is not highlighted`)
      }
      assert.ok((await tileValue(p, 'Dropped')) >= dropped, 'the Dropped tile counts them')
      await until(() => tileValue(p, 'Queued'), (n) => n > 0, 'the stuck session to have queued messages')
      assert.equal(await tileValue(p, 'Clients connected'), 5)
      assert.deepEqual(await unnamedInteractive(p), [], 'every control has a name')
      await shot(p, 'broker-01-live')
    })
  })

  it('at 400 px: tiles two by two, the drops table stacked, nothing scrolls sideways', async () => {
    const p = page()
    await step(p, 'broker-narrow', async () => {
      await viewport(p, NARROW)
      try {
        assert.ok((await horizontalOverflow(p)) <= 0, 'no sideways scrolling of the page')
        const a = await p.getByRole('group', { name: exactly('Clients connected') }).boundingBox()
        const b = await p.getByRole('group', { name: exactly('Sessions') }).boundingBox()
        assert.ok(a && b && a.x + a.width <= NARROW.width && b.x + b.width <= NARROW.width, 'tiles within the viewport')
        assert.ok(a && b && Math.abs(a.y - b.y) < 2 && b.x > a.x, 'two tiles side by side')
        const table = tableWithColumn(p, 'What it means')
        const cell = await cellOf(table, rowWith(table, 'queue_full'), 'Dropped')
        const before = await cell.evaluate((td: any) => (globalThis as any).getComputedStyle(td, '::before').content as string)
        assert.equal(before, '"Dropped"', 'the stacked cell shows its column name')
        const wrap = await table.evaluate((t: any) => ({ sw: t.parentElement.scrollWidth as number, cw: t.parentElement.clientWidth as number }))
        assert.ok(wrap.sw <= wrap.cw + 1, `the drops table does not scroll sideways (${wrap.sw} > ${wrap.cw})`)
        await shot(p, 'broker-02-narrow')
      } finally {
        await viewport(p, DESKTOP)
      }
    })
  })

  it('deployment stopped: "not running" instead of figures; Start brings them back', async () => {
    const p = page()
    await step(p, 'broker-not-running', async () => {
      for (const s of sockets) s.destroy()
      const stop = await h.j.api('POST', `${depApi}/stop`)
      assert.equal(stop.status, 200, JSON.stringify(stop.body))
      assert.equal(await apiStats(), null, 'the API has no figures')
      // The figures (every 2 s) and the deployment (every 3 s) are polled apart: the page must
      // not say "not running (running)" in between.
      await p.getByRole('status').filter({ hasText: 'not running (stopped)' }).waitFor()
      assert.equal(await p.getByRole('region', { name: exactly('Live figures') }).count(), 0, 'no tiles while stopped')
      await shot(p, 'broker-03-not-running')
      await p.getByRole('button', { name: exactly('Start deployment') }).click()
      await p.getByRole('region', { name: exactly('Live figures') }).waitFor()
      assert.equal(await tileValue(p, 'Clients connected'), 0, 'a fresh broker: no clients')
      assert.equal(await tileValue(p, 'Received'), 0, 'counters start again')
      assertNoPageProblems(h)
    })
  })
})
