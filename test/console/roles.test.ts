// Roles in the console: an admin manages console users and API keys (Administration pages); a
// viewer sees no control that changes anything and an editor no users/keys administration, each
// logged in through the login page; what the console hides, the API still refuses (403).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Page } from 'playwright-core'
import { sharedPostgres } from '../support/postgres.js'
import { DESKTOP, NARROW, assertNoPageProblems, closeBrowser, exactly, field, login, printShots, shot, startConsole, until, viewport, type ConsoleHarness } from './support.js'

const VIEWER = { username: 'vera', password: 'vera-password-1' }
const EDITOR = { username: 'eddie', password: 'eddie-password-1' }

/** What a logged-in page's own token may do: the call the console would make, sent by hand. */
async function callAsPage(page: Page, method: string, path: string, body?: unknown): Promise<{ status: number; code?: string }> {
  return page.evaluate(async ({ method, path, body }) => {
    const token = (globalThis as any).sessionStorage.getItem('junction.token')
    const res = await fetch(`./api/v1${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) })
    const json = (await res.json().catch(() => undefined)) as { error?: { code?: string } } | undefined
    return { status: res.status, code: json?.error?.code }
  }, { method, path, body })
}

async function switchUser(page: Page, who: { username: string; password: string }): Promise<void> {
  await page.getByRole('button', { name: exactly('Log out') }).click()
  await field(page, 'Username').waitFor({ state: 'visible' })
  await login(page, who.password, who.username)
}

/** How many controls with this role and exact name the page has (0: left out). */
const count = (page: Page, role: 'button' | 'link' | 'heading', name: string) => page.getByRole(role, { name: exactly(name) }).count()

describe('console: roles', () => {
  let h: ConsoleHarness
  let connectorId: string
  let ruleId: string

  before(async () => {
    h = await startConsole()
    for (const [who, role] of [[VIEWER, 'viewer'], [EDITOR, 'editor']] as const) {
      const r = await h.j.api('POST', '/api/v1/users', { ...who, role })
      assert.equal(r.status, 201, JSON.stringify(r.body))
    }
    const pg = sharedPostgres()
    const c = await h.j.api('POST', '/api/v1/deployments/default/connectors', { name: 'warehouse', type: 'postgresql', config: { host: pg.host, port: pg.port, database: pg.database, username: pg.user } })
    assert.equal(c.status, 201, JSON.stringify(c.body))
    connectorId = c.body.id
    const r = await h.j.api('POST', '/api/v1/deployments/default/rules', { name: 'alerts', sql: 'SELECT * FROM "alerts/#"', actions: [{ builtin: 'republish', params: { topic: 'out/${topic}' } }] })
    assert.equal(r.status, 201, JSON.stringify(r.body))
    ruleId = r.body.id
    assert.equal((await h.j.api('POST', '/api/v1/deployments/default/mqtt/users', { username: 'sensor-1', password: 'sensor-password-1' })).status, 201)
  })
  after(async () => {
    await h?.close()
    await closeBrowser()
    printShots()
  })

  it('an admin adds, re-roles, resets and deletes console users, with the API\'s errors at their fields', async () => {
    const p = h.page
    await h.goto('/#/login')
    await login(p)
    await p.getByRole('link', { name: exactly('Console users') }).click()
    await p.getByRole('heading', { name: exactly('Console users') }).waitFor()
    const rows = p.locator('tbody tr')
    await until(() => rows.allInnerTexts(), (t) => t.length === 3, 'admin, vera and eddie listed')
    assert.match((await rows.allInnerTexts()).join('\n'), /admin[\s\S]*eddie[\s\S]*vera/)
    assert.equal(await p.getByLabel('Role of vera').inputValue(), 'viewer')

    // The password rule is checked before the request; the taken name comes back from the API.
    await field(p, 'Username').fill('nina')
    await field(p, 'Password').fill('short')
    await p.getByRole('button', { name: exactly('Add user') }).click()
    await p.getByText('At least 8 characters (now 5).').waitFor()
    assert.equal(await field(p, 'Password').getAttribute('aria-invalid'), 'true')
    await field(p, 'Password').fill('nina-password-1')
    await p.getByLabel('Role', { exact: true }).selectOption('viewer')
    await p.getByRole('button', { name: exactly('Add user') }).click()
    await p.getByText('Console user nina added with the viewer role.').waitFor()
    await field(p, 'Username').fill('nina')
    await field(p, 'Password').fill('nina-password-1')
    await p.getByRole('button', { name: exactly('Add user') }).click()
    await p.getByText(/The console user nina exists\. Change it with PATCH/).waitFor()
    assert.equal(await field(p, 'Username').getAttribute('aria-invalid'), 'true')
    await field(p, 'Username').fill('')
    await field(p, 'Password').fill('')

    await p.getByLabel('Role of nina').selectOption('editor')
    await p.getByText('nina is now editor. It applies to their next request.').waitFor()
    assert.equal((await h.j.api('GET', '/api/v1/users/nina')).body.role, 'editor')

    await p.getByRole('button', { name: exactly('Reset password of nina') }).click()
    const reset = p.getByRole('dialog', { name: exactly('Reset password of nina') })
    await field(reset, 'New password').fill('nina-password-2')
    await reset.getByRole('button', { name: exactly('Save password') }).click()
    await p.getByText('Password of nina reset.').waitFor()
    const relogin = await h.j.junction.app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'nina', password: 'nina-password-2' } })
    assert.equal(relogin.statusCode, 200, 'the new password logs in')
    assert.equal(relogin.json().role, 'editor')

    await shot(p, 'users')
    await viewport(p, NARROW)
    await shot(p, 'users-narrow')
    await viewport(p, DESKTOP)

    await p.getByRole('button', { name: exactly('Delete nina') }).click()
    const del = p.getByRole('dialog', { name: exactly('Delete console user nina?') })
    const confirm = del.getByRole('button', { name: exactly('Delete') })
    assert.equal(await confirm.isDisabled(), true, 'Delete waits for the typed name')
    await field(del, 'Type the username to confirm').fill('nin')
    assert.equal(await confirm.isDisabled(), true)
    await field(del, 'Type the username to confirm').fill('nina')
    await confirm.click()
    await p.getByText('Console user nina deleted.').waitFor()
    assert.equal((await h.j.api('GET', '/api/v1/users/nina')).status, 404)
    assertNoPageProblems(h)
  })

  it('an admin makes an API key whose secret is shown once, with a copy button, and deletes it', async () => {
    const p = h.page
    await p.getByRole('link', { name: exactly('API keys') }).click()
    await p.getByRole('heading', { name: exactly('API keys') }).waitFor()
    await field(p, 'Key name').fill('ci-script')
    await p.getByLabel('Role', { exact: true }).selectOption('editor')
    await field(p, 'Description').fill('the nightly export')
    await p.getByRole('button', { name: exactly('Create key') }).click()
    const panel = p.getByRole('region', { name: exactly('API key ci-script created') })
    await panel.waitFor()
    assert.match(await panel.innerText(), /won't be shown again/)
    const secret = (await panel.getByLabel('Secret', { exact: true }).innerText()).trim()
    assert.ok(secret.length >= 20, secret)
    await panel.getByRole('button', { name: exactly('Copy the secret') }).click()
    await panel.getByRole('status').filter({ hasText: 'Copied' }).waitFor()
    const basic = `Basic ${Buffer.from(`ci-script:${secret}`).toString('base64')}`
    const me = await h.j.junction.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: basic } })
    assert.deepEqual(me.json(), { name: 'ci-script', kind: 'api_key', role: 'editor' }, 'the secret shown works')
    const row = p.locator('tbody tr').filter({ hasText: 'ci-script' })
    assert.match(await row.innerText(), /editor[\s\S]*the nightly export/)
    await shot(p, 'api-keys')
    await viewport(p, NARROW)
    await shot(p, 'api-keys-narrow')
    await viewport(p, DESKTOP)

    // Gone once the page is left: only its hash is kept.
    await p.getByRole('link', { name: exactly('Console users') }).click()
    await p.getByRole('link', { name: exactly('API keys') }).click()
    await p.locator('tbody tr').filter({ hasText: 'ci-script' }).waitFor()
    assert.ok(!(await p.content()).includes(secret), 'the secret is not shown again')

    await p.getByRole('button', { name: exactly('Delete ci-script') }).click()
    const del = p.getByRole('dialog', { name: exactly('Delete API key ci-script?') })
    await del.getByRole('button', { name: exactly('Delete') }).click()
    await p.getByText('API key ci-script deleted.').waitFor()
    const after = await h.j.junction.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: basic } })
    assert.equal(after.statusCode, 401, 'a deleted key is refused at once')
    assertNoPageProblems(h)
  })

  it('a viewer sees no control that changes anything, and the API refuses what the page left out', async () => {
    const p = h.page
    await switchUser(p, VIEWER)
    assert.match(await p.locator('.topbar-user').innerText(), /vera[\s\S]*viewer/)
    for (const name of ['Console users', 'API keys', 'Audit log']) assert.equal(await count(p, 'link', name), 0, `no ${name} link`)

    await h.goto('/#/deployments')
    await p.getByRole('link', { name: exactly('Data Integration of default') }).waitFor()
    for (const name of ['New deployment', 'Stop default', 'Start default']) assert.equal(await count(p, 'button', name), 0, name)

    await h.goto('/#/deployments/default/connectors')
    await p.getByRole('link', { name: exactly('warehouse') }).waitFor()
    for (const name of ['New Connector', 'Edit warehouse', 'Delete warehouse']) assert.equal(await count(p, 'button', name), 0, name)
    assert.equal(await count(p, 'link', 'Export and import'), 0)
    await shot(p, 'viewer-connectors')

    await h.goto(`/#/deployments/default/connectors/${connectorId}`)
    await p.getByRole('heading', { name: exactly('warehouse') }).waitFor()
    for (const name of ['Test connection', 'Edit connector', 'Delete connector']) assert.equal(await count(p, 'button', name), 0, name)

    await h.goto('/#/deployments/default/rules')
    await p.getByRole('link', { name: exactly('alerts') }).waitFor()
    for (const name of ['New Rule', 'Disable alerts', 'Edit alerts', 'Delete alerts']) assert.equal(await count(p, 'button', name), 0, name)
    await h.goto(`/#/deployments/default/rules/${ruleId}`)
    await p.getByRole('heading', { name: exactly('alerts') }).waitFor()
    for (const name of ['Disable rule', 'Edit rule', 'Delete rule']) assert.equal(await count(p, 'button', name), 0, name)

    await h.goto('/#/deployments/default/mqtt/users')
    await p.getByText('sensor-1').waitFor()
    assert.equal(await count(p, 'heading', 'Add a device user'), 0)
    for (const name of ['Delete sensor-1', 'Change password of sensor-1']) assert.equal(await count(p, 'button', name), 0, name)

    await h.goto('/#/deployments/default/mqtt/acl')
    const saveAcl = p.getByRole('button', { name: exactly('Save ACL') })
    await saveAcl.waitFor()
    assert.equal(await saveAcl.isDisabled(), true, 'the ACL is read only')
    await p.getByRole('note').filter({ hasText: 'Read only: needs the editor role' }).waitFor()
    await shot(p, 'viewer-acl')

    // Forms reached by their URL say why instead of failing on Save.
    await h.goto('/#/deployments/default/rules/new')
    await p.getByRole('heading', { name: exactly('Needs the editor role') }).waitFor()
    await h.goto('/#/users')
    await p.getByRole('heading', { name: exactly('Needs the admin role') }).waitFor()
    await shot(p, 'viewer-needs-admin')

    assert.deepEqual(await callAsPage(p, 'POST', '/deployments/default/rules', { name: 'sneaky', sql: 'SELECT * FROM "t"', actions: [] }), { status: 403, code: 'FORBIDDEN' })
    assert.deepEqual(await callAsPage(p, 'DELETE', `/deployments/default/connectors/${connectorId}?confirm=${connectorId}`), { status: 403, code: 'FORBIDDEN' })
    assert.deepEqual(await callAsPage(p, 'GET', '/users'), { status: 403, code: 'FORBIDDEN' })
    assert.equal((await h.j.api('GET', `/api/v1/deployments/default/connectors/${connectorId}`)).status, 200, 'the connector is still there')
    assertNoPageProblems(h)
  })

  it('an editor edits connectors and rules but administers no users or keys; a role change shows on the next page', async () => {
    const p = h.page
    await switchUser(p, EDITOR)
    await h.goto('/#/deployments/default/connectors')
    await p.getByRole('link', { name: exactly('warehouse') }).waitFor()
    for (const name of ['New Connector', 'Edit warehouse', 'Delete warehouse']) assert.equal(await count(p, 'button', name), 1, name)
    for (const name of ['Console users', 'API keys', 'Audit log']) assert.equal(await count(p, 'link', name), 0, `no ${name} link`)
    assert.equal(await count(p, 'link', 'Export and import'), 1)

    await h.goto('/#/deployments')
    await p.getByRole('button', { name: exactly('Stop default') }).waitFor()
    assert.equal(await count(p, 'button', 'New deployment'), 0, 'creating deployments is for admins')

    await h.goto('/#/deployments/default/mqtt/settings')
    const saveSettings = p.getByRole('button', { name: exactly('Save settings') })
    await saveSettings.waitFor()
    assert.equal(await saveSettings.isDisabled(), true, "broker settings are the deployment's: admins only")

    await h.goto('/#/api-keys')
    await p.getByRole('heading', { name: exactly('Needs the admin role') }).waitFor()
    assert.deepEqual(await callAsPage(p, 'POST', '/api-keys', { role: 'admin' }), { status: 403, code: 'FORBIDDEN' })

    // The rule form builds the republish params from GET /action-types.
    await h.goto(`/#/deployments/default/rules/${ruleId}/edit`)
    const topic = field(p.getByRole('group', { name: exactly('Action 1') }), 'Topic template')
    await topic.waitFor()
    assert.equal(await topic.inputValue(), 'out/${topic}')

    assert.equal((await h.j.api('PATCH', `/api/v1/users/${EDITOR.username}`, { role: 'viewer' })).status, 200)
    await h.goto('/#/deployments/default/rules')
    await p.getByRole('link', { name: exactly('alerts') }).waitFor()
    await until(() => count(p, 'button', 'New Rule'), (n) => n === 0, 'New Rule gone after the demotion')
    assert.match(await p.locator('.topbar-user').innerText(), /viewer/)
    assertNoPageProblems(h)
  })
})
