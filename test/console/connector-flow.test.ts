// The product page's whole connector flow in a real browser (docs/console-contract.md names):
// log in, the first-time type grid, a PostgreSQL form tested with a wrong password then the right
// one, save, the list with a live status, details, edit (test, save), and delete with the typed ID.
// Each page is saved as a screenshot at 1280x800, the list and form also at 400x800.
import assert from 'node:assert/strict'
import { after, before, describe, it as independent } from 'node:test'
import { startPrivatePostgres, type PrivatePostgres } from '../support/postgres.js'
import {
  ADMIN_PASSWORD, ADMIN_USER, DESKTOP, NARROW, assertNoPageProblems, assertNoReload, cellOf, chain, closeBrowser, columnHeaders, controlNames, exactly,
  field, focused, horizontalOverflow, login, markDocument, printShots, reveal, rowWith, shot, startConsole, step, tableWithColumn, textOf, unnamedInteractive, viewport,
  type ConsoleHarness,
} from './support.js'

const PASSWORD = 'pg-Secret-4711'
const DEP = 'default'
const api = `/api/v1/deployments/${DEP}/connectors`

describe('console: connector flow (PostgreSQL)', () => {
  let h: ConsoleHarness
  let pg: PrivatePostgres
  let id = ''
  const overflow: string[] = []
  const it = chain()

  before(async () => {
    ;[pg, h] = await Promise.all([startPrivatePostgres({ auth: 'scram', password: PASSWORD }), startConsole()])
  })
  after(async () => {
    if (overflow.length) console.log(`horizontal overflow at ${NARROW.width}px: ${overflow.join('; ')}`)
    await h?.close()
    await pg?.destroy()
    await closeBrowser()
    printShots()
  })

  const page = () => h.page
  const connectorsTable = () => tableWithColumn(page(), 'ID')

  async function narrowShot(name: string): Promise<void> {
    await viewport(page(), NARROW)
    await shot(page(), name)
    const px = await horizontalOverflow(page())
    if (px > 0) overflow.push(`${name} +${px}px`)
    await viewport(page(), DESKTOP)
  }

  it('login: a wrong password shows the alert, the right one logs in', async () => {
    const p = page()
    await step(p, 'login-page', async () => {
      await h.goto('/')
      await field(p, 'Username').waitFor({ state: 'visible' })
      assert.match(p.url(), /#\/login/, 'an anonymous visit to / lands on the login route')
      await shot(p, '01-login')
    })
    await step(p, 'login-wrong-password', async () => {
      await field(p, 'Username').fill(ADMIN_USER)
      await field(p, 'Password').fill('not-the-password')
      await p.getByRole('button', { name: exactly('Log in') }).click()
      const alert = p.getByRole('alert').filter({ hasText: /wrong username or password/i })
      await alert.waitFor({ state: 'visible' })
      assert.equal(await p.getByRole('button', { name: exactly('Log out') }).count(), 0, 'not logged in')
      await shot(p, '02-login-wrong-password')
    })
    await step(p, 'login-right-password', async () => {
      await login(p, ADMIN_PASSWORD)
      assert.doesNotMatch(p.url(), /#\/login/)
      const navDeployments = p.getByRole('link', { name: exactly('Deployments') })
      await navDeployments.first().waitFor({ state: 'visible' })
    })
  })

  it('deployments: the table, and the default deployment links to its connectors', async () => {
    const p = page()
    await step(p, 'deployments', async () => {
      await p.getByRole('link', { name: exactly('Deployments') }).first().click()
      await p.waitForURL(/#\/deployments\/?$/)
      const table = tableWithColumn(p, 'Plan')
      await table.waitFor({ state: 'visible' })
      const headers = await columnHeaders(table)
      for (const c of ['Name', 'Plan', 'Status', 'MQTT']) assert.ok(headers.includes(c), `deployments column "${c}" in ${JSON.stringify(headers)}`)
      const row = rowWith(table, /default/)
      assert.equal(await textOf(await cellOf(table, row, 'Plan')), 'dedicated')
      await (await cellOf(table, row, 'Status')).getByText('running', { exact: true }).waitFor()
      await shot(p, '03-deployments')
      await table.getByRole('link', { name: exactly('default') }).click()
      await p.waitForURL(new RegExp(`#/deployments/${DEP}/connectors$`))
    })
  })

  it('connectors, first time: the type grid with one button per connector type', async () => {
    const p = page()
    const types = (await h.j.api('GET', '/api/v1/connector-types')).body.data as Array<{ type: string; title: string }>
    await step(p, 'connectors-empty', async () => {
      await p.getByRole('heading', { level: 1, name: exactly('Connectors') }).waitFor()
      await p.getByRole('heading', { name: exactly('Choose a resource to connect') }).waitFor()
      for (const nav of ['Connectors', 'Rules']) await p.getByRole('link', { name: exactly(nav) }).first().waitFor()
      for (const t of types) {
        assert.equal(await p.getByRole('button', { name: exactly(t.title) }).count(), 1, `a type button named "${t.title}" (its title)`)
      }
      assert.equal(await p.getByRole('button', { name: exactly('New Connector') }).count(), 0, 'no "New Connector" without connectors')
      await shot(p, '04-connectors-empty')
      await p.getByRole('button', { name: exactly('PostgreSQL') }).click()
      await p.waitForURL(new RegExp(`#/deployments/${DEP}/connectors/new/postgresql$`))
      await p.getByRole('heading', { level: 1, name: exactly('New PostgreSQL connector') }).waitFor()
      await shot(p, '05-form-new')
    })
  })

  it('form accessibility: every control has an accessible name; Test and Save are reachable by Tab', async () => {
    const p = page()
    await step(p, 'form-a11y', async () => {
      await reveal(p, 'Pool size') // opens "Advanced settings", so the defaulted fields are checked too
      const controls = await controlNames(p)
      assert.ok(controls.length >= 8, `expected the PostgreSQL form's controls, found ${controls.length}`)
      const unnamed = controls.filter((c) => c.name === '' || c.ignored)
      assert.deepEqual(unnamed, [], `controls without an accessible name: ${JSON.stringify(unnamed)}`)
      const weak = controls.filter((c) => ['placeholder', 'title'].includes(c.nameFrom))
      assert.deepEqual(weak, [], `controls named only by a placeholder or title, not a label: ${JSON.stringify(weak)}`)
      assert.deepEqual(await unnamedInteractive(p), [], 'buttons, links and controls without an accessible name on the form page')
      const names = controls.map((c) => c.name)
      for (const label of ['Name', 'Description', 'Host', 'Port', 'Database', 'Username', 'Password', 'Pool size']) {
        assert.ok(names.some((n) => new RegExp(`^${label}\\s*\\*?$`, 'i').test(n)), `a control named "${label}" in ${JSON.stringify(names)}`)
      }
      const password = controls.find((c) => /^password\b/i.test(c.name))
      assert.equal(password?.type, 'password', 'the secret field is a password input')
      const aria = await p.locator('main').or(p.locator('body')).first().ariaSnapshot()
      assert.match(aria, /textbox "Name/, 'aria snapshot lists the Name textbox')
      await shot(p, '06-form-advanced')

      await field(p, 'Name').focus()
      const seen: string[] = []
      let test = false
      let save = false
      for (let i = 0; i < 80 && !(test && save); i++) {
        await p.keyboard.press('Tab')
        const f = await focused(p)
        const label = f.label || f.text
        seen.push(`${f.tag}:${label.slice(0, 30)}`)
        if (f.tag === 'button' && /^Test$/.test(label)) test = true
        if (f.tag === 'button' && /^Save$/.test(label)) save = true
      }
      assert.ok(test && save, `Tab from Name reaches Test (${test}) and Save (${save}); focus went: ${seen.join(' > ')}`)
    })
  })

  it('form: Test with a wrong password shows the error, the failing step and the hint', async () => {
    const p = page()
    await step(p, 'form-server-field-errors', async () => {
      // Save with nothing filled in, then with only a name: the server's field errors show next to
      // the fields (it reports the top-level name first, then the config's required fields).
      const expectInvalid = async (label: string) => {
        const f = field(p, label)
        await p.waitForFunction((el: any) => el?.getAttribute('aria-invalid') === 'true', await f.elementHandle(), { timeout: 10_000 })
          .catch(() => assert.fail(`"${label}" not marked aria-invalid="true"`))
        const described = await f.getAttribute('aria-describedby')
        assert.ok(described, `"${label}" points at its error text (aria-describedby)`)
        const texts = await Promise.all(described!.split(/\s+/).map((ref) => textOf(p.locator(`[id="${ref}"]`))))
        assert.ok(texts.some((t) => /required|must|empty|invalid/i.test(t)), `"${label}" described by its error: ${JSON.stringify(texts)}`)
      }
      await p.getByRole('button', { name: exactly('Save') }).click()
      await expectInvalid('Name')
      await field(p, 'Name').fill('warehouse')
      await p.getByRole('button', { name: exactly('Save') }).click()
      await expectInvalid('Host')
      assert.equal(await field(p, 'Name').getAttribute('aria-invalid'), null, 'Name no longer invalid')
      assert.equal((await h.j.api('GET', api)).body.data.length, 0, 'nothing stored')
      await shot(p, '06b-form-field-errors')
    })
    await step(p, 'form-test-wrong-password', async () => {
      await field(p, 'Name').fill('warehouse')
      await field(p, 'Description').fill('telemetry store')
      await field(p, 'Host').fill('127.0.0.1')
      await (await reveal(p, 'Port')).fill(String(pg.port))
      await field(p, 'Database').fill('postgres')
      await field(p, 'Username').fill(pg.user)
      await field(p, 'Password').fill('wrong-password')
      await p.getByRole('button', { name: exactly('Test') }).click()
      const alert = p.getByRole('alert').filter({ hasText: /authenticat/i })
      await alert.waitFor({ state: 'visible' })
      const text = await textOf(alert)
      assert.match(text, /AUTHENTICATION_FAILED|authentication (of user .*)?failed/i, `the error: ${text}`)
      assert.match(text, /\bauthenticate\b/i, `the failing step "authenticate": ${text}`)
      assert.match(text, /check the username and password/i, `the hint: ${text}`)
      assert.equal(await p.getByRole('status').filter({ hasText: /connection successful/i }).count(), 0)
      await shot(p, '07-form-test-failed')
    })
  })

  it('form: with the password fixed, Test says "Connection successful" with the latency', async () => {
    const p = page()
    await step(p, 'form-test-ok', async () => {
      await field(p, 'Password').fill(PASSWORD)
      await p.getByRole('button', { name: exactly('Test') }).click()
      const ok = p.getByRole('status').filter({ hasText: /Connection successful/ })
      await ok.waitFor({ state: 'visible' })
      assert.match(await textOf(ok), /\d+(\.\d+)?\s*ms/, 'the latency in ms')
      assert.equal(await p.getByRole('alert').filter({ hasText: /authenticat/i }).count(), 0, 'the failure is no longer shown')
      await shot(p, '08-form-test-ok')
      await narrowShot('08n-form-narrow')
    })
  })

  it('Save: the list shows the connector, its status reaches "connected" without a reload, Rules 0', async () => {
    const p = page()
    await step(p, 'save-and-list', async () => {
      await p.getByRole('button', { name: exactly('Save') }).click()
      await p.waitForURL((u) => !u.hash.includes('/new/'))
      const created = (await h.j.api('GET', api)).body.data as Array<{ id: string; name: string }>
      assert.equal(created.length, 1, 'one connector stored')
      id = created[0]!.id
      if (!new RegExp(`#/deployments/${DEP}/connectors$`).test(p.url())) {
        await p.getByRole('link', { name: exactly('Connectors') }).first().click()
      }
      const table = connectorsTable()
      await table.waitFor({ state: 'visible' })
      await markDocument(p)
      const headers = await columnHeaders(table)
      for (const c of ['Name', 'ID', 'Type', 'Status', 'Rules', 'Actions']) assert.ok(headers.includes(c), `column "${c}" in ${JSON.stringify(headers)}`)
      const row = rowWith(table, 'warehouse')
      assert.equal(await row.count(), 1)
      // The name links to the details, as in the deployments and rules lists; the ID is plain text.
      const nameLink = (await cellOf(table, row, 'Name')).getByRole('link', { name: exactly('warehouse') })
      assert.equal(await nameLink.count(), 1, 'the Name cell links to the details')
      assert.equal(await textOf(await cellOf(table, row, 'ID')), id)
      assert.match(await textOf(await cellOf(table, row, 'Type')), /postgres/i)
      assert.equal(await textOf(await cellOf(table, row, 'Rules')), '0')
      await (await cellOf(table, row, 'Status')).getByText('connected', { exact: true }).waitFor({ timeout: 15_000 })
      await assertNoReload(p)
      await row.getByRole('button', { name: exactly('Edit warehouse') }).waitFor()
      await row.getByRole('button', { name: exactly('Delete warehouse') }).waitFor()
      await p.getByRole('button', { name: exactly('New Connector') }).waitFor()
      assert.deepEqual(await unnamedInteractive(p), [], 'buttons, links and controls without an accessible name on the list page')
      await shot(p, '09-connectors-list')
      await narrowShot('09n-connectors-list-narrow')
      const details = (await h.j.api('GET', `${api}/${id}`)).body
      assert.deepEqual([details.config.host, details.config.port, details.config.username, details.description], ['127.0.0.1', pg.port, pg.user, 'telemetry store'])
      assert.equal((await h.j.api('POST', `${api}/${id}/test`)).body.ok, true, 'the stored password is the fixed one')
    })
  })

  it('details via the name link: defaults marked "default", the password masked', async () => {
    const p = page()
    await step(p, 'details', async () => {
      await connectorsTable().getByRole('link', { name: exactly('warehouse') }).click()
      await p.waitForURL(new RegExp(`#/deployments/${DEP}/connectors/${id}$`))
      await p.getByRole('heading', { level: 1, name: exactly('warehouse') }).waitFor()
      const terms = (await p.getByRole('term').allTextContents()).map((t) => t.trim())
      for (const t of ['ID', 'Type', 'Status', 'Created', 'Updated']) assert.ok(terms.includes(t), `term "${t}" in ${JSON.stringify(terms)}`)
      await p.getByRole('heading', { name: exactly('Configuration') }).waitFor()
      const body = await p.locator('body').innerText()
      assert.ok(body.includes('******'), 'the password shown as ******')
      assert.ok(!(await p.content()).includes(PASSWORD), 'the real password is nowhere in the page')
      assert.ok(body.includes(id))
      // Values left at their defaults (pool size 8, connect timeout 5000 ms) are marked "default";
      // the ones typed in the form (host) are not.
      const valueOf = (term: string) => p.getByRole('term').filter({ hasText: exactly(term) }).first().locator('xpath=following-sibling::*[1]')
      assert.match(await textOf(valueOf('Pool size')), /^8\s*\(?default\)?$/i, 'Pool size: 8, marked default')
      assert.match(await textOf(valueOf('Connect timeout (ms)')), /^5000\s*\(?default\)?$/i, 'Connect timeout: 5000, marked default')
      assert.equal(await textOf(valueOf('Host')), '127.0.0.1', 'Host as typed, not marked default')
      assert.match(await textOf(valueOf('Password')), /^\*{6}$/, 'Password as ******')
      assert.equal(await textOf(valueOf('ID')), id)
      assert.equal(await textOf(valueOf('Status')).then((t) => t.split(/\s/)[0]), 'connected')
      await p.getByRole('figure', { name: /Messages per second \(last minute\)/ }).waitFor()
      await shot(p, '10-details')
    })
  })

  it('Edit: change the pool size, Test (the masked password resolves to the stored one), Save', async () => {
    const p = page()
    await step(p, 'edit', async () => {
      await p.getByRole('link', { name: exactly('Connectors') }).first().click()
      await rowWith(connectorsTable(), 'warehouse').getByRole('button', { name: exactly('Edit warehouse') }).click()
      await p.waitForURL(new RegExp(`#/deployments/${DEP}/connectors/${id}/edit$`))
      await p.getByRole('heading', { level: 1, name: exactly('Edit warehouse') }).waitFor()
      assert.equal(await field(p, 'Name').inputValue(), 'warehouse')
      assert.equal(await field(p, 'Host').inputValue(), '127.0.0.1')
      const pool = await reveal(p, 'Pool size')
      // Left at its default: shown as the default (placeholder), not as a value the user set.
      assert.equal(await pool.inputValue(), '')
      assert.match((await pool.getAttribute('placeholder')) ?? '', /^8 \(default\)$/)
      await pool.fill('4')
      await shot(p, '11-edit')
      await narrowShot('11n-edit-narrow')
      await p.getByRole('button', { name: exactly('Test') }).click()
      await p.getByRole('status').filter({ hasText: /Connection successful/ }).waitFor()
      await shot(p, '12-edit-tested')
      await p.getByRole('button', { name: exactly('Save') }).click()
      await p.waitForURL((u) => !u.hash.endsWith('/edit'))
      const d = (await h.j.api('GET', `${api}/${id}`)).body
      assert.equal(d.config.poolSize, 4)
      assert.equal(d.version, 2)
      assert.equal((await h.j.api('POST', `${api}/${id}/test`)).body.ok, true, 'the stored password survived the edit')
    })
  })

  it('Delete: the dialog wants the exact ID; then the connector is gone and the type grid is back', async () => {
    const p = page()
    await step(p, 'delete', async () => {
      if (!new RegExp(`#/deployments/${DEP}/connectors$`).test(p.url())) await p.getByRole('link', { name: exactly('Connectors') }).first().click()
      const table = connectorsTable()
      await (await cellOf(table, rowWith(table, 'warehouse'), 'Status')).getByText('connected', { exact: true }).waitFor({ timeout: 15_000 })
      await rowWith(table, 'warehouse').getByRole('button', { name: exactly('Delete warehouse') }).click()
      const dialog = p.getByRole('dialog')
      await dialog.waitFor({ state: 'visible' })
      const confirm = field(dialog, 'Type the connector ID to confirm')
      const del = dialog.getByRole('button', { name: exactly('Delete') })
      await dialog.getByRole('button', { name: exactly('Cancel') }).waitFor()
      assert.equal(await del.isDisabled(), true, 'Delete disabled before typing')
      await confirm.fill('c-wrong123')
      assert.equal(await del.isDisabled(), true, 'Delete disabled with a wrong ID')
      await shot(p, '13-delete-dialog-wrong-id')
      await confirm.fill(id)
      assert.equal(await del.isEnabled(), true, 'Delete enabled with the exact ID')
      await shot(p, '14-delete-dialog-right-id')
      await del.click()
      await dialog.waitFor({ state: 'hidden' })
      await p.getByRole('heading', { name: exactly('Choose a resource to connect') }).waitFor()
      assert.equal(await p.getByText(id, { exact: true }).count(), 0, 'the connector is gone from the page')
      assert.equal((await h.j.api('GET', `${api}/${id}`)).status, 404)
      await shot(p, '15-connectors-empty-again')
    })
  })

  independent('the page made no non-loopback requests, threw nothing, and got no 5xx', () => {
    assertNoPageProblems(h)
  })
})
