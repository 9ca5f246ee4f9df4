// What the console refuses, in a real browser: editing on a serverless plan, deleting a connector
// a rule uses, creating connectors on a stopped deployment, and an expired login session. Also
// that the status badge follows an outage live (no reload).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { eventually } from '../support/junction.js'
import { startPrivatePostgres, type PrivatePostgres } from '../support/postgres.js'
import {
  assertNoPageProblems, assertNoReload, cellOf, closeBrowser, exactly, field, login, markDocument, printShots, rowWith, shot, startConsole, step,
  tableWithColumn, textOf, type ConsoleHarness,
} from './support.js'

const DEP = 'default'
const api = `/api/v1/deployments/${DEP}/connectors`
const EDIT_TITLE = 'Editing connectors needs a dedicated or premium deployment'

describe('console: restrictions', () => {
  let h: ConsoleHarness
  let pg: PrivatePostgres
  let id = ''

  before(async () => {
    ;[pg, h] = await Promise.all([startPrivatePostgres(), startConsole()])
    const created = await h.j.api('POST', api, {
      name: 'warehouse', type: 'postgresql',
      config: { host: '127.0.0.1', port: pg.port, database: 'postgres', username: pg.user, connectTimeoutMs: 1000, resource: { healthCheckIntervalMs: 1000, startTimeoutMs: 2000 } },
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    id = created.body.id
    await h.goto('/')
    await login(h.page)
  })
  after(async () => {
    await h?.close()
    await pg?.destroy()
    await closeBrowser()
    printShots()
  })

  const page = () => h.page
  const table = () => tableWithColumn(page(), 'ID')
  async function openConnectors(): Promise<void> {
    await h.goto(`/#/deployments/${DEP}/connectors`)
    await page().getByRole('heading', { level: 1, name: exactly('Connectors') }).waitFor()
  }

  it('the status badge follows an outage without a reload', async () => {
    const p = page()
    await step(p, 'live-status', async () => {
      await openConnectors()
      await markDocument(p)
      const status = async () => cellOf(table(), rowWith(table(), 'warehouse'), 'Status')
      await (await status()).getByText('connected', { exact: true }).waitFor({ timeout: 15_000 })
      await pg.stop()
      await (await status()).getByText('disconnected', { exact: true }).waitFor({ timeout: 20_000 })
      await shot(p, '20-list-disconnected')
      await pg.start()
      await (await status()).getByText('connected', { exact: true }).waitFor({ timeout: 20_000 })
      await assertNoReload(p)
    })
  })

  it('serverless plan: "Edit" is disabled with the plan explanation as its title', async () => {
    const p = page()
    assert.equal((await h.j.api('PATCH', `/api/v1/deployments/${DEP}`, { plan: 'serverless' })).status, 200)
    try {
      await step(p, 'serverless-edit', async () => {
        await openConnectors()
        const edit = rowWith(table(), 'warehouse').getByRole('button', { name: exactly('Edit warehouse') })
        await edit.waitFor()
        // The console polls the deployment every few seconds: the plan change shows without a reload.
        await eventually(() => edit.isDisabled(), (d) => d, '"Edit warehouse" disabled on serverless', 8_000)
        assert.equal(await edit.getAttribute('title'), EDIT_TITLE)
        // Written on the page too: a hover title reaches neither touch nor keyboard users.
        const notice = p.getByRole('note').filter({ hasText: /editing connectors needs a dedicated or premium deployment/i })
        await notice.waitFor()
        assert.ok(await notice.isVisible(), 'the serverless restriction is visible on the list page')
        await shot(p, '21-serverless-edit-disabled')
      })
    } finally {
      assert.equal((await h.j.api('PATCH', `/api/v1/deployments/${DEP}`, { plan: 'dedicated' })).status, 200)
    }
    await step(p, 'dedicated-edit', async () => {
      await openConnectors()
      const edit = rowWith(table(), 'warehouse').getByRole('button', { name: exactly('Edit warehouse') })
      await eventually(() => edit.isEnabled(), (e) => e, '"Edit warehouse" enabled again on dedicated', 8_000)
      assert.equal(await p.getByRole('note').filter({ hasText: /dedicated or premium/i }).count(), 0, 'no serverless notice on dedicated')
    })
  })

  it('a connector used by a rule cannot be deleted: the dialog names the rule', async () => {
    const p = page()
    const rule = await h.j.api('POST', `/api/v1/deployments/${DEP}/rules`, {
      name: 'temps to warehouse', sql: 'SELECT * FROM "t/#"',
      // A statement that needs no table passes the check on save (nothing is published here).
      actions: [{ connectorId: id, params: { sql: "SELECT pg_notify('x', ${id})" } }],
    })
    assert.equal(rule.status, 201, JSON.stringify(rule.body))
    const ruleId = rule.body.id as string
    try {
      await step(p, 'delete-in-use', async () => {
        await openConnectors()
        const row = rowWith(table(), 'warehouse')
        await (await cellOf(table(), row, 'Rules')).getByText('1', { exact: true }).waitFor()
        await row.getByRole('button', { name: exactly('Delete warehouse') }).click()
        const dialog = p.getByRole('dialog')
        await dialog.waitFor({ state: 'visible' })
        await dialog.getByText(/used by 1 rule\./).waitFor()
        const link = dialog.getByRole('link', { name: exactly('temps to warehouse') })
        await link.waitFor()
        assert.match((await link.getAttribute('href')) ?? '', new RegExp(`#/deployments/${DEP}/rules/${ruleId}$`))
        const enabledDelete = async () => {
          const dels = dialog.getByRole('button', { name: exactly('Delete') })
          let n = 0
          for (let i = 0; i < (await dels.count()); i++) if (await dels.nth(i).isEnabled()) n++
          return n
        }
        assert.equal(await enabledDelete(), 0, 'no enabled Delete')
        const confirm = field(dialog, 'Type the connector ID to confirm')
        if ((await confirm.count()) > 0 && (await confirm.isEditable())) {
          await confirm.fill(id)
          assert.equal(await enabledDelete(), 0, 'still no enabled Delete with the right ID typed')
        }
        await shot(p, '22-delete-in-use')
        await dialog.getByRole('button', { name: exactly('Cancel') }).click()
        await dialog.waitFor({ state: 'hidden' })
        assert.equal((await h.j.api('GET', `${api}/${id}`)).status, 200, 'still there')
      })
      await step(p, 'details-rules', async () => {
        await table().getByRole('link', { name: exactly('warehouse') }).click()
        await p.getByRole('heading', { level: 1, name: exactly('warehouse') }).waitFor()
        const link = p.getByRole('link', { name: exactly('temps to warehouse') })
        await link.waitFor()
        assert.match((await link.getAttribute('href')) ?? '', new RegExp(`#/deployments/${DEP}/rules/${ruleId}$`))
        await shot(p, '23-details-with-rule')
      })
    } finally {
      await h.j.api('DELETE', `/api/v1/deployments/${DEP}/rules/${ruleId}`)
    }
  })

  it('a stopped deployment: the Connectors page says "not running" and offers no "New Connector"', async () => {
    const p = page()
    assert.equal((await h.j.api('POST', `/api/v1/deployments/${DEP}/stop`)).status, 200)
    try {
      await step(p, 'stopped-deployment', async () => {
        await openConnectors()
        const status = p.getByRole('status').filter({ hasText: /not running/ })
        await status.waitFor()
        assert.equal(await p.getByRole('button', { name: exactly('New Connector') }).count(), 0, 'no "New Connector"')
        await shot(p, '24-deployment-stopped')
      })
    } finally {
      assert.equal((await h.j.api('POST', `/api/v1/deployments/${DEP}/start`)).status, 200)
    }
    await step(p, 'started-again', async () => {
      await openConnectors()
      await p.getByRole('button', { name: exactly('New Connector') }).waitFor()
    })
    assertNoPageProblems(h)
  })
})

describe('console: login session expiry', () => {
  let h: ConsoleHarness
  const TTL = 1500

  before(async () => {
    h = await startConsole({ sessionTtlMs: TTL })
  })
  after(async () => {
    await h?.close()
    await closeBrowser()
    printShots()
  })

  it('after the session expires, the next click lands on the login page with the expiry message', async () => {
    const p = h.page
    await step(p, 'session-expiry', async () => {
      await h.goto('/')
      await login(p)
      await p.getByRole('link', { name: exactly('Deployments') }).first().click()
      await p.getByRole('link', { name: exactly('default') }).waitFor()
      await new Promise((r) => setTimeout(r, TTL + 500))
      await p.getByRole('link', { name: exactly('default') }).click()
      await field(p, 'Username').waitFor({ state: 'visible' })
      assert.match(p.url(), /#\/login/)
      const message = p.getByRole('alert').or(p.getByRole('status')).filter({ hasText: /expired|session/i })
      await message.first().waitFor()
      assert.match(await textOf(message.first()), /expired/i)
      assert.equal(await p.getByRole('button', { name: exactly('Log out') }).count(), 0)
      await shot(p, '25-session-expired')
    })
    await step(p, 'login-after-expiry', async () => {
      await login(p)
      assert.doesNotMatch(p.url(), /#\/login/)
    })
    assertNoPageProblems(h)
  })
})
