// A deployment attached to an external broker, in a real browser: "New deployment" with Broker
// "An existing MQTT broker" asks for its servers and the served schema's fields (user name,
// password...) and creates one that connects; the Deployments list shows the
// external broker's address and the connection's status in the MQTT column; its Broker page shows
// the "External broker" card (status, servers, client ID, subscriptions) instead of figures, and
// the status follows the broker going away (not connected, with a reason) and coming back.
// Screenshots: external-broker-01-list.png, external-broker-02-form.png, external-broker-03-card.png, external-broker-04-down.png.
import assert from 'node:assert/strict'
import { after, before, describe } from 'node:test'
import { startPrivateMosquitto, type PrivateMosquitto } from '../support/mosquitto.js'
import {
  assertNoPageProblems, cellOf, chain, closeBrowser, exactly, field, login, shot, printShots, rowWith, startConsole, step, tableWithColumn, textOf, until, type ConsoleHarness,
} from './support.js'

describe('console: a deployment attached to an external broker', () => {
  let h: ConsoleHarness
  let broker: PrivateMosquitto
  let dep = ''
  const it = chain()
  const page = () => h.page

  before(async () => {
    broker = await startPrivateMosquitto()
    h = await startConsole()
    const r = await h.j.api('POST', '/api/v1/deployments', { name: 'attached', broker: { mode: 'external', servers: [`127.0.0.1:${broker.port}`] } })
    assert.equal(r.status, 201, JSON.stringify(r.body))
    dep = r.body.id
    const rule = await h.j.api('POST', `/api/v1/deployments/${dep}/rules`, { name: 'watch', sql: 'SELECT * FROM "plant/#"', actions: [] })
    assert.equal(rule.status, 201, JSON.stringify(rule.body))
  })
  after(async () => {
    if (h?.problems.consoleErrors.length) console.log(`console.error in the page:\n  ${h.problems.consoleErrors.join('\n  ')}`)
    await h?.j.api('POST', `/api/v1/deployments/${dep}/stop`).catch(() => undefined)
    await h?.close()
    await broker?.destroy()
    await closeBrowser()
    printShots()
  })

  it('the Deployments list shows the external broker and "connected" in the MQTT column', async () => {
    const p = page()
    await step(p, 'external-broker-list', async () => {
      await h.goto('/#/deployments')
      await login(p)
      const table = tableWithColumn(p, 'Plan')
      const row = rowWith(table, /attached/)
      await row.waitFor()
      const text = await until(async () => textOf(await cellOf(table, row, 'MQTT')), (t) => t.includes('connected'), 'connected in the MQTT column')
      assert.match(text, new RegExp(`external\\s*127\\.0\\.0\\.1:${broker.port}`))
      await shot(p, 'external-broker-01-list')
    })
  })

  it('"New deployment" attaches one to an external broker from the form (servers, user name)', async () => {
    const p = page()
    await step(p, 'external-broker-create', async () => {
      const dialog = p.getByRole('dialog', { name: exactly('New deployment') })
      await p.getByRole('button', { name: exactly('New deployment') }).first().click()
      await dialog.waitFor({ state: 'visible' })
      await field(dialog, 'Name').fill('from-form')
      await field(dialog, 'Broker').selectOption('external')
      assert.equal(await dialog.getByLabel('MQTT port').count(), 0, 'no port of its own')
      await field(dialog, 'Servers').fill(`127.0.0.1:${broker.port}`)
      await field(dialog, 'Username').fill('someone')
      await shot(p, 'external-broker-02-form')
      await dialog.getByRole('button', { name: exactly('Create') }).click()
      await dialog.waitFor({ state: 'hidden' })
      const created = (await h.j.api('GET', '/api/v1/deployments')).body.data.find((d: { name: string }) => d.name === 'from-form')
      assert.deepEqual([created.broker.mode, created.broker.servers, created.broker.username], ['external', [`127.0.0.1:${broker.port}`], 'someone'])
      const table = tableWithColumn(p, 'Plan')
      const row = rowWith(table, /from-form/)
      await until(async () => textOf(await cellOf(table, row, 'MQTT')), (t) => t.includes('connected'), 'the new one connected')
      await h.j.api('POST', `/api/v1/deployments/${created.id}/stop`)
    })
  })

  it('its Broker page shows the external broker, the client ID, the subscriptions and the status', async () => {
    const p = page()
    await step(p, 'external-broker-card', async () => {
      await h.goto(`/#/deployments/${dep}/mqtt/broker`)
      const card = p.getByRole('region', { name: exactly('External broker') })
      await card.waitFor()
      const text = await until(() => card.innerText(), (t) => t.includes('$share/junction/plant/#'), 'the subscription on the card')
      assert.match(text, /connected/)
      assert.ok(text.includes(`127.0.0.1:${broker.port}`), text)
      assert.ok(text.includes(`-${dep}`), 'the client ID names the deployment')
      assert.equal(await p.getByRole('region', { name: exactly('Live figures') }).count(), 0, 'no figures of a broker of its own')
      await shot(p, 'external-broker-03-card')
      assertNoPageProblems(h)
    })
  })

  it('Device users, ACL and Broker settings say they do not apply while attached', async () => {
    const p = page()
    await step(p, 'external-broker-device-pages', async () => {
      for (const path of ['mqtt/users', 'mqtt/acl', 'mqtt/settings']) {
        await h.goto(`/#/deployments/${dep}/${path}`)
        const note = p.getByRole('note').filter({ hasText: 'Attached to an external broker' })
        await note.waitFor()
        assert.ok((await note.innerText()).includes(`127.0.0.1:${broker.port}`), path)
      }
      await h.goto(`/#/deployments/${dep}/mqtt/broker`)
      await p.getByRole('region', { name: exactly('External broker') }).waitFor()
    })
  })

  it('the broker going away: the card says not connected, with the reason; back: connected', async () => {
    const p = page()
    await step(p, 'external-broker-down', async () => {
      await broker.stop()
      const card = p.getByRole('region', { name: exactly('External broker') })
      const down = await until(() => card.innerText(), (t) => /disconnected|reconnecting/.test(t) && /CONNECTION_/.test(t), 'the card to show the loss', 20_000)
      assert.match(down, /Reason/)
      await shot(p, 'external-broker-04-down')
      await broker.start()
      await until(() => card.innerText(), (t) => /\bconnected\b/.test(t) && !/CONNECTION_/.test(t), 'connected again', 45_000)
    })
  })
})
