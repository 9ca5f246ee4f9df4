// The Deployments page in a real browser (docs/console-contract.md names): the list with a Start /
// Stop button per row; "New deployment" opens a dialog (keyboard: focus on Name, Escape closes it
// and gives the focus back); an empty name and a taken name show the server's message under
// Name and create nothing; "plant-b" on the premium plan is created and runs; it is stopped and
// started again from its row (the button is disabled while the request runs), the API and the
// page agree each time. Screenshots at 1280x800.
import assert from 'node:assert/strict'
import { after, before, describe, it as independent } from 'node:test'
import { assertNoPageProblems, cellOf, chain, closeBrowser, columnHeaders, exactly, field, focused, login, printShots, rowWith, shot, startConsole, step, tableWithColumn, textOf, unnamedInteractive, type ConsoleHarness, until } from './support.js'

const NAME = 'plant-b'
const listApi = '/api/v1/deployments'

interface ApiDeployment {
  id: string
  name: string
  plan: string
  status: string
  mqtt: { host: string | null; port: number | null; addresses: Array<{ transport: string; port: number; urls: string[] }> }
}

describe('console: deployments (create, stop, start)', () => {
  let h: ConsoleHarness
  let created: ApiDeployment | undefined
  const it = chain()

  before(async () => {
    h = await startConsole()
  })
  after(async () => {
    if (h?.problems.consoleErrors.length) console.log(`console.error in the page:\n  ${h.problems.consoleErrors.join('\n  ')}`)
    // The new broker listens on a real port: stop it before Junction closes.
    if (created) await h?.j.api('POST', `${listApi}/${created.id}/stop`).catch(() => undefined)
    await h?.close()
    await closeBrowser()
    printShots()
  })

  const page = () => h.page
  const deployments = async () => (await h.j.api('GET', listApi)).body.data as ApiDeployment[]
  const table = () => tableWithColumn(page(), 'Plan')
  const dialog = () => page().getByRole('dialog', { name: exactly('New deployment') })
  const newButton = () => page().getByRole('button', { name: exactly('New deployment') })

  it('the list: columns with "Actions", the default deployment running with "Stop default", and "New deployment"', async () => {
    const p = page()
    await step(p, 'deployments-list', async () => {
      await h.goto('/')
      await login(p)
      await p.getByRole('link', { name: exactly('Deployments') }).first().click()
      await p.waitForURL(/#\/deployments\/?$/)
      await table().waitFor()
      const headers = await columnHeaders(table())
      for (const c of ['Name', 'Plan', 'Status', 'MQTT', 'Actions']) assert.ok(headers.includes(c), `column "${c}" in ${JSON.stringify(headers)}`)
      const row = rowWith(table(), /default/)
      assert.equal(await textOf(await cellOf(table(), row, 'Status')), 'running')
      await row.getByRole('button', { name: exactly('Stop default') }).waitFor()
      assert.equal(await newButton().count(), 1, 'one "New deployment" button (in the header)')
      assert.deepEqual(await unnamedInteractive(p), [], 'every control has a name')
    })
  })

  it('New deployment by keyboard: the dialog focuses Name, defaults to dedicated, explains the plans; Escape closes it', async () => {
    const p = page()
    await step(p, 'deployments-dialog-keyboard', async () => {
      await newButton().focus()
      await p.keyboard.press('Enter')
      await dialog().waitFor({ state: 'visible' })
      await p.waitForFunction(() => (globalThis as any).document.activeElement?.tagName === 'INPUT')
      assert.equal(await field(dialog(), 'Name').evaluate((el) => el === (globalThis as any).document.activeElement), true, 'the focus is on Name')
      assert.equal(await field(dialog(), 'Plan').inputValue(), 'dedicated', 'the plan defaults to dedicated')
      assert.deepEqual(
        (await field(dialog(), 'Plan').locator('option').allTextContents()).map((t) => t.trim()),
        ['Serverless', 'Dedicated', 'Premium'],
      )
      assert.match(await textOf(dialog()), /Editing connectors needs a dedicated or premium deployment/)
      assert.equal(await field(dialog(), 'MQTT port').inputValue(), '', 'the port is empty (automatic)')
      assert.match(await textOf(dialog()), /first free port from 1883/)
      assert.deepEqual(await unnamedInteractive(p), [], 'every control in the dialog has a name')
      await p.keyboard.press('Escape')
      await dialog().waitFor({ state: 'hidden' })
      const f = await focused(p)
      assert.match(f.text, /New deployment/, `the focus is back on "New deployment": ${JSON.stringify(f)}`)
    })
  })

  it('an empty name and a taken name: the server\'s message under Name, the focus on it, nothing created', async () => {
    const p = page()
    const before = (await deployments()).length
    await step(p, 'deployments-create-empty-name', async () => {
      await newButton().click()
      await dialog().waitFor({ state: 'visible' })
      await dialog().getByRole('button', { name: exactly('Create') }).click()
      const name = field(dialog(), 'Name')
      await p.waitForFunction(() => (globalThis as any).document.querySelector('dialog [aria-invalid="true"]') !== null)
      assert.equal(await name.getAttribute('aria-invalid'), 'true')
      const error = dialog().locator('.field-error')
      assert.match(await textOf(error), /^Must not be empty\./, 'the server\'s message for an empty name')
      assert.equal(await name.evaluate((el) => el === (globalThis as any).document.activeElement), true, 'the focus moved to Name')
      const describedBy = (await name.getAttribute('aria-describedby')) ?? ''
      assert.equal(await error.getAttribute('id'), describedBy, 'Name is described by its error')
      assert.equal((await deployments()).length, before, 'nothing created')
      await shot(p, 'deployments-01-empty-name')
    })
    await step(p, 'deployments-create-taken-name', async () => {
      await field(dialog(), 'Name').fill('default')
      await p.keyboard.press('Enter')
      const error = dialog().locator('.field-error').filter({ hasText: 'A deployment named "default" already exists' })
      await error.waitFor()
      assert.match(await textOf(error), /Choose another name\./, 'the hint too')
      assert.equal(await field(dialog(), 'Name').getAttribute('aria-invalid'), 'true')
      assert.equal(await dialog().getByRole('alert').count(), 0, 'no second copy of the message')
      assert.equal((await deployments()).length, before, 'nothing created')
    })
  })

  it(`create "${NAME}" on the premium plan: the dialog closes, the row shows it running, the API agrees`, async () => {
    const p = page()
    await step(p, 'deployments-create', async () => {
      await field(dialog(), 'Name').fill(NAME)
      await field(dialog(), 'Plan').selectOption({ label: 'Premium' })
      await dialog().getByRole('button', { name: exactly('Create') }).click()
      await dialog().waitFor({ state: 'hidden' })
      const stored = (await deployments()).filter((d) => d.name === NAME)
      assert.equal(stored.length, 1, `one deployment named ${NAME}: ${JSON.stringify(stored)}`)
      created = stored[0]!
      assert.equal(created.plan, 'premium')
      assert.equal(created.status, 'running')
      assert.ok(created.mqtt.port !== null && created.mqtt.port >= 1883, `it listens from 1883 up: ${JSON.stringify(created.mqtt)}`)
      const row = rowWith(table(), NAME)
      await row.waitFor()
      assert.equal(await row.count(), 1)
      await (await cellOf(table(), row, 'Name')).getByRole('link', { name: exactly(NAME) }).waitFor()
      assert.equal(await textOf(await cellOf(table(), row, 'Plan')), 'premium')
      assert.equal(await textOf(await cellOf(table(), row, 'Status')), 'running')
      // One address per listener (plain MQTT first, as the API lists them), each with a copy button.
      const mqttCell = await cellOf(table(), row, 'MQTT')
      const shown = await mqttCell.getByRole('list', { name: exactly('Device addresses') }).locator('code').allTextContents()
      assert.deepEqual(shown, created.mqtt.addresses.map((l) => l.urls[0]))
      assert.equal(shown[0], `mqtt://${created.mqtt.host}:${created.mqtt.port}`)
      assert.deepEqual(created.mqtt.addresses.map((l) => l.transport), ['tcp', 'tls', 'ws', 'wss'])
      await mqttCell.getByRole('button', { name: exactly(`Copy ${shown[0]}`) }).click()
      await mqttCell.getByRole('status').filter({ hasText: 'Copied' }).waitFor()
      await p.getByText(new RegExp(`Deployment ${NAME} created`)).waitFor()
      await row.getByRole('button', { name: exactly(`Stop ${NAME}`) }).waitFor()
      await shot(p, 'deployments-02-created')
    })
  })

  it(`stop "${NAME}" from its row: disabled while the request runs, then "stopped" in the API and on the page`, async () => {
    const p = page()
    await step(p, 'deployments-stop', async () => {
      const row = rowWith(table(), NAME)
      // Hold the request a moment so the page can be seen while it runs.
      let release: () => void = () => undefined
      const held = new Promise<void>((r) => (release = r))
      const stopRoute = '**/api/v1/deployments/*/stop'
      await p.route(stopRoute, async (route) => {
        await held
        await route.fallback()
      })
      try {
        const stop = row.getByRole('button', { name: exactly(`Stop ${NAME}`) })
        await stop.click()
        // Stopping disconnects devices: a dialog asks first; Cancel changes nothing.
        const dialog = p.getByRole('dialog', { name: exactly(`Stop deployment ${NAME}?`) })
        await dialog.getByRole('button', { name: exactly('Cancel') }).click()
        await dialog.waitFor({ state: 'detached' })
        assert.equal(await textOf(await cellOf(table(), row, 'Status')), 'running', 'Cancel leaves it running')
        await stop.click()
        await dialog.getByRole('button', { name: exactly('Stop deployment') }).click()
        await p.waitForFunction(() => (globalThis as any).document.querySelector('button[aria-busy="true"]') !== null)
        assert.equal(await stop.isDisabled(), true, 'the button is disabled while the request runs')
        const f = await focused(p)
        assert.match(f.label, new RegExp(`^Stop ${NAME}$`), `the button keeps the focus: ${JSON.stringify(f)}`)
        assert.equal(await textOf(await cellOf(table(), row, 'Status')), 'running', 'still running until the answer')
      } finally {
        release()
      }
      await row.getByRole('button', { name: exactly(`Start ${NAME}`) }).waitFor()
      await p.unroute(stopRoute)
      const f = await focused(p)
      assert.match(f.label, new RegExp(`^Start ${NAME}$`), `the focus stays on the row's button, now "Start": ${JSON.stringify(f)}`)
      assert.equal(await textOf(await cellOf(table(), row, 'Status')), 'stopped')
      assert.equal(await textOf(await cellOf(table(), row, 'MQTT')), '—')
      const stored = await until(deployments, (ds) => ds.find((d) => d.name === NAME)?.status === 'stopped', `${NAME} stopped in the API`)
      assert.equal(stored.find((d) => d.name === NAME)!.mqtt.port, null)
      assert.equal(stored.find((d) => d.name === 'default')!.status, 'running', 'the other deployment still runs')
      await p.getByText(new RegExp(`Deployment ${NAME} stopped`)).waitFor()
      await shot(p, 'deployments-03-stopped')
    })
  })

  it(`start "${NAME}" again: "running" in the API and on the page`, async () => {
    const p = page()
    await step(p, 'deployments-start', async () => {
      const row = rowWith(table(), NAME)
      await row.getByRole('button', { name: exactly(`Start ${NAME}`) }).click()
      await row.getByRole('button', { name: exactly(`Stop ${NAME}`) }).waitFor()
      assert.equal(await textOf(await cellOf(table(), row, 'Status')), 'running')
      const stored = (await deployments()).find((d) => d.name === NAME)!
      assert.equal(stored.status, 'running')
      assert.equal(stored.plan, 'premium')
      assert.match((await (await cellOf(table(), row, 'MQTT')).locator('code').allTextContents())[0]!, /^mqtt:\/\/127\.0\.0\.1:\d+$/)
      await shot(p, 'deployments-04-started')
    })
  })

  it(`"${NAME}"'s connectors page lists every device address of every listener, each with a copy button`, async () => {
    const p = page()
    await step(p, 'deployments-addresses', async () => {
      const stored = (await deployments()).find((d) => d.name === NAME)!
      await rowWith(table(), NAME).getByRole('link', { name: exactly(NAME) }).click()
      await p.getByRole('heading', { level: 1, name: exactly('Connectors') }).waitFor()
      const disclosure = p.locator('details', { has: p.getByText('Device addresses', { exact: true }) })
      await disclosure.getByText('Device addresses', { exact: true }).click()
      const urls = stored.mqtt.addresses.flatMap((l) => l.urls)
      assert.deepEqual(await disclosure.locator('code').allTextContents(), urls)
      for (const label of ['MQTT', 'MQTT over TLS', 'MQTT over WebSocket', 'MQTT over secure WebSocket']) {
        assert.equal(await disclosure.locator('dt').filter({ hasText: new RegExp(`^${label} port \\d+$`) }).count(), 1, label)
      }
      for (const u of urls) await disclosure.getByRole('button', { name: exactly(`Copy ${u}`) }).waitFor()
      await shot(p, 'deployments-05-addresses')
    })
  })

  independent('the page made no non-loopback requests, threw nothing, and got no 5xx', () => {
    assertNoPageProblems(h)
  })
})
