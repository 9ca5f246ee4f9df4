/**
 * Browser tests of the web console: Junction in-process with its real HTTP listener (the console
 * is served at `/`), the system Chromium driven through playwright-core (no browser download;
 * `scripts/ensure-chromium.mjs` installs it), and helpers that find controls by the accessible
 * names in docs/console-contract.md. Every page may only reach loopback addresses: any other
 * request is aborted and recorded, and the tests assert there were none.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { it } from 'node:test'
import pg from 'pg'
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core'
import type { Settings } from '../../src/settings.js'
import { eventually, startJunction, type TestJunction } from '../support/junction.js'
import { sharedPostgres } from '../support/postgres.js'

export const CHROMIUM = process.env.JUNCTION_TEST_CHROMIUM ?? '/usr/bin/chromium'
export const ADMIN_USER = 'admin'
/** The admin password startJunction sets. */
export const ADMIN_PASSWORD = 'admin-password-for-tests'
/** Where `shot` saves screenshots (test-output/ is gitignored). */
export const SHOT_DIR = resolve(new URL('../../test-output/console', import.meta.url).pathname)
export const DESKTOP = { width: 1280, height: 800 } as const
export const NARROW = { width: 400, height: 800 } as const

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

let browserPromise: Promise<Browser> | undefined

/** One Chromium per test process (default temp profile: a fresh user data dir each launch). */
export function browser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run \`node scripts/ensure-chromium.mjs\` (installs the Debian chromium package)`)
  }
  browserPromise ??= chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 })
  return browserPromise
}

/** Closes the shared browser (call from the last `after` of a test file). */
export async function closeBrowser(): Promise<void> {
  const p = browserPromise
  browserPromise = undefined
  if (p) await (await p).close().catch(() => undefined)
}

export interface PageProblems {
  /** Uncaught exceptions in the page. */
  pageErrors: string[]
  /** console.error messages. */
  consoleErrors: string[]
  /** Requests to anything but loopback, aborted. */
  blockedRequests: string[]
  /** Responses >= 500 from Junction. */
  serverErrors: string[]
}

export interface ConsoleHarness {
  j: TestJunction
  /** Base URL of Junction's real listener, e.g. http://127.0.0.1:41234 */
  baseUrl: string
  context: BrowserContext
  page: Page
  problems: PageProblems
  /** Opens a hash route: `goto('/#/deployments')`. */
  goto(path: string): Promise<void>
  /** Closes the page's context and Junction. */
  close(): Promise<void>
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])

/** Starts Junction (startJunction + listen) and a 1280x800 page in a fresh browser context. */
export async function startConsole(overrides: Partial<Settings> = {}): Promise<ConsoleHarness> {
  const j = await startJunction(overrides)
  let context: BrowserContext | undefined
  try {
    const baseUrl = (await j.junction.listen()).replace(/\/$/, '').replace('://0.0.0.0', '://127.0.0.1')
    const index = await fetch(`${baseUrl}/`).then((r) => r.text())
    if (/Console not built/i.test(index)) throw new Error('the console is not built (dist/console/index.html missing): run `npm run build` first')
    context = await (await browser()).newContext({ viewport: { ...DESKTOP }, baseURL: baseUrl, locale: 'en-US', timezoneId: 'UTC' })
    context.setDefaultTimeout(10_000)
    context.setDefaultNavigationTimeout(15_000)
    const problems: PageProblems = { pageErrors: [], consoleErrors: [], blockedRequests: [], serverErrors: [] }
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url())
      if (url.protocol === 'data:' || url.protocol === 'blob:' || LOOPBACK.has(url.hostname)) return route.continue()
      problems.blockedRequests.push(route.request().url())
      return route.abort('blockedbyclient')
    })
    const page = await context.newPage()
    page.on('pageerror', (err) => problems.pageErrors.push(String(err?.stack ?? err)))
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.consoleErrors.push(msg.text())
    })
    page.on('response', (res) => {
      if (res.status() >= 500) problems.serverErrors.push(`${res.status()} ${res.request().method()} ${res.url()}`)
    })
    const ctx = context
    return {
      j,
      baseUrl,
      context: ctx,
      page,
      problems,
      async goto(path) {
        await page.goto(`${baseUrl}${path.startsWith('/') ? path : `/${path}`}`)
      },
      async close() {
        await ctx.close().catch(() => undefined)
        await j.close()
      },
    }
  } catch (err) {
    await context?.close().catch(() => undefined)
    await j.close()
    throw err
  }
}

/** Asserts the page had no uncaught errors, no server errors and reached nothing but loopback. */
/**
 * The console with a PostgreSQL connector `name` on the machine's server, connected, a table made
 * by `createTable` (its SQL), and a client of that server for reading rows back; `dispose` drops
 * the table and closes what this opened (the harness included).
 */
export async function startConsoleWithPostgres(name: string, table: string, createTable: string): Promise<{ h: ConsoleHarness; db: pg.Client; connectorId: string; dispose(): Promise<void> }> {
  const shared = sharedPostgres()
  const db = new pg.Client({ host: shared.host, port: shared.port, database: shared.database, user: shared.user, password: shared.password })
  const [h] = await Promise.all([startConsole(), db.connect()])
  await db.query(createTable)
  const connectors = '/api/v1/deployments/default/connectors'
  const c = await h.j.api('POST', connectors, { name, type: 'postgresql', config: { host: shared.host, port: shared.port, database: shared.database, username: shared.user } })
  assert.equal(c.status, 201, JSON.stringify(c.body))
  await eventually(() => h.j.api('GET', `${connectors}/${c.body.id}`), (r) => r.body.status === 'connected', 'the connector connected', 10_000)
  return {
    h, db, connectorId: c.body.id,
    async dispose() {
      await h.close()
      await db.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined)
      await db.end().catch(() => undefined)
    },
  }
}

export function assertNoPageProblems(h: ConsoleHarness): void {
  assert.deepEqual(h.problems.blockedRequests, [], 'the console requested non-loopback URLs')
  assert.deepEqual(h.problems.pageErrors, [], 'uncaught errors in the page')
  assert.deepEqual(h.problems.serverErrors, [], 'Junction answered 5xx')
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * A form control by its contract label. The accessible name must be the label, allowing only a
 * trailing required marker ("Host *"), so "Password" does not also match "Show password".
 */
/** Polls `read` until `ok` holds, at most `ms`; fails with the last value. */
export async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, ms = 10_000): Promise<T> {
  const end = Date.now() + ms
  let last = await read()
  while (!ok(last)) {
    if (Date.now() > end) assert.fail(`timed out after ${ms} ms waiting for ${what}; last: ${JSON.stringify(last)}`)
    await new Promise((r) => setTimeout(r, 100))
    last = await read()
  }
  return last
}

export function field(scope: Page | Locator, label: string): Locator {
  return scope.getByLabel(new RegExp(`^\\s*${escapeRe(label)}\\s*(\\*|\\(required\\))?\\s*$`, 'i'))
}

/** Exact-name regex, case-sensitive, for getByRole({ name }). */
export const exactly = (name: string) => new RegExp(`^\\s*${escapeRe(name)}\\s*$`)

/** Logs in through the login form (as `admin` unless told) and waits for the logged-in shell ("Log out"). */
export async function login(page: Page, password = ADMIN_PASSWORD, username = ADMIN_USER): Promise<void> {
  const user = field(page, 'Username')
  if (!(await user.isVisible().catch(() => false))) {
    await page.goto(`${new URL(page.url()).origin}/#/login`)
  }
  await field(page, 'Username').fill(username)
  await field(page, 'Password').fill(password)
  await page.getByRole('button', { name: exactly('Log in') }).click()
  await page.getByRole('button', { name: exactly('Log out') }).waitFor({ state: 'visible' })
}

const taken: string[] = []

/** Saves a full-page screenshot to test-output/console/<name>.png; returns the path. */
export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(SHOT_DIR, { recursive: true })
  const path = join(SHOT_DIR, `${name}.png`)
  // Let fonts and the last render settle so the picture shows what the user sees.
  await page.evaluate(() => (globalThis as any).document.fonts?.ready).catch(() => undefined)
  // A full-page capture of a scrolled page draws sticky headers and sidebars where the viewport
  // was, in the middle of the picture: capture from the top.
  await page.evaluate(() => (globalThis as any).scrollTo(0, 0)).catch(() => undefined)
  await page.screenshot({ path, fullPage: true, animations: 'disabled' })
  taken.push(`${name}.png`)
  return path
}

/** Prints where the screenshots went (call from `after`). */
export function printShots(): void {
  if (taken.length === 0) return
  console.log(`console screenshots (${taken.length}) in ${SHOT_DIR}:\n  ${taken.join('\n  ')}`)
  taken.length = 0
}

/** Resizes the page and waits a frame for the layout. */
export async function viewport(page: Page, size: { width: number; height: number }): Promise<void> {
  await page.setViewportSize({ ...size })
  await page.evaluate(() => new Promise((r) => (globalThis as any).requestAnimationFrame(() => (globalThis as any).requestAnimationFrame(r))))
}

/**
 * Text content of a locator's elements (as a screen reader reads it: no CSS text-transform),
 * whitespace collapsed.
 */
export async function textOf(l: Locator): Promise<string> {
  return (await l.allTextContents()).join(' | ').replace(/\s+/g, ' ').trim()
}

/** What the page offers a screen reader (Playwright's aria snapshot), for failure messages. */
export async function ariaOf(page: Page): Promise<string> {
  return page.locator('body').ariaSnapshot({ timeout: 5_000 }).catch((e: Error) => `(no aria snapshot: ${e.message})`)
}

export interface ControlName {
  tag: string
  type: string
  id: string
  role: string
  name: string
  /** Where the name came from: `label`, `aria-label`, `aria-labelledby`, `placeholder`, `title`, ... */
  nameFrom: string
  ignored: boolean
}

/**
 * Every visible input, select and textarea on the page with the accessible name Chromium computes
 * for it (CDP Accessibility.getPartialAXTree), as a screen reader would get it.
 */
export async function controlNames(page: Page): Promise<ControlName[]> {
  const cdp = await page.context().newCDPSession(page)
  try {
    await cdp.send('Accessibility.enable')
    await cdp.send('DOM.enable')
    const count = (await page.evaluate(() => (globalThis as any).document.querySelectorAll('input, select, textarea').length)) as number
    const out: ControlName[] = []
    for (let i = 0; i < count; i++) {
      const { result } = await cdp.send('Runtime.evaluate', { expression: `document.querySelectorAll('input, select, textarea')[${i}]` })
      if (!result.objectId) continue
      const info = await page.evaluate((idx) => {
        const g = globalThis as any
        const el = g.document.querySelectorAll('input, select, textarea')[idx]
        const style = g.getComputedStyle(el)
        const rect = el.getBoundingClientRect()
        const visible = el.type !== 'hidden' && style.display !== 'none' && style.visibility !== 'hidden' && (rect.width > 0 || rect.height > 0)
        return { tag: el.tagName.toLowerCase(), type: el.getAttribute('type') ?? '', id: el.id, visible }
      }, i)
      if (!info.visible) continue
      const { nodes } = await cdp.send('Accessibility.getPartialAXTree', { objectId: result.objectId, fetchRelatives: false })
      const node = nodes[0]
      const used = (node?.name?.sources ?? []).find((src) => src.value !== undefined && !src.superseded && String(src.value.value ?? '').trim() !== '')
      out.push({
        tag: info.tag,
        type: info.type,
        id: info.id,
        role: String(node?.role?.value ?? ''),
        name: String(node?.name?.value ?? '').trim(),
        nameFrom: used ? String(used.nativeSource ?? used.attribute ?? used.type) : '',
        ignored: Boolean(node?.ignored),
      })
    }
    return out
  } finally {
    await cdp.detach().catch(() => undefined)
  }
}

/** Describes the focused element: role-ish tag and its accessible text. */
export async function focused(page: Page): Promise<{ tag: string; text: string; label: string }> {
  return page.evaluate(() => {
    const el = (globalThis as any).document.activeElement
    if (!el) return { tag: '', text: '', label: '' }
    return { tag: el.tagName.toLowerCase(), text: (el.textContent ?? '').replace(/\s+/g, ' ').trim(), label: el.getAttribute('aria-label') ?? '' }
  })
}

/**
 * Runs one step of a test; when it fails, saves `FAIL-<name>.png` and adds the URL and the page's
 * aria snapshot to the error, so a mismatch with the contract shows what the page had instead.
 */
export async function step<T>(page: Page, name: string, fn: () => Promise<T>): Promise<T> {
  try {
    const result = await fn()
    // A passing step clears the picture of an earlier failed run, so test-output/ shows the truth.
    rmSync(join(SHOT_DIR, `FAIL-${name}.png`), { force: true })
    return result
  } catch (err) {
    const e = err as Error
    let extra = `\n  step: ${name}\n  url: ${page.url()}`
    try {
      extra += `\n  screenshot: ${await shot(page, `FAIL-${name}`)}`
    } catch {
      /* page gone */
    }
    const aria = await ariaOf(page)
    extra += `\n  aria snapshot of the page:\n${aria.slice(0, 6000).replace(/^/gm, '    ')}`
    e.message = `${e.message}${extra}`
    throw e
  }
}

/** The column headers of a table, whitespace collapsed. */
export async function columnHeaders(table: Locator): Promise<string[]> {
  return (await table.getByRole('columnheader').allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim())
}

/** The cell of `row` under the column headed `column` (by header position). */
export async function cellOf(table: Locator, row: Locator, column: string): Promise<Locator> {
  await table.getByRole('columnheader', { name: exactly(column) }).waitFor()
  const headers = await columnHeaders(table)
  const idx = headers.findIndex((h) => h === column)
  assert.ok(idx >= 0, `no column "${column}" in ${JSON.stringify(headers)}`)
  return row.locator('th, td').nth(idx)
}

/** The table with a column header named `column` (e.g. the connector list has "ID"). */
export function tableWithColumn(page: Page, column: string): Locator {
  return page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: exactly(column) }) })
}

/** The body row of `table` that contains `text`. */
export function rowWith(table: Locator, text: string | RegExp): Locator {
  return table.getByRole('row').filter({ hasText: text }).filter({ hasNot: table.page().getByRole('columnheader') })
}

/** Shows the field when it sits behind "Advanced settings". */
export async function reveal(page: Page, label: string): Promise<Locator> {
  const f = field(page, label)
  if (await f.isVisible().catch(() => false)) return f
  const adv = page.getByRole('button', { name: exactly('Advanced settings') })
  if ((await adv.count()) > 0 && (await adv.getAttribute('aria-expanded')) !== 'true') await adv.click()
  await f.waitFor({ state: 'visible' })
  return f
}

/** Marks the document so `assertNoReload` can tell the page was not reloaded since. */
export async function markDocument(page: Page): Promise<void> {
  await page.evaluate(() => {
    ;(globalThis as any).__junctionTestMark = true
  })
}

export async function assertNoReload(page: Page): Promise<void> {
  const still = await page.evaluate(() => (globalThis as any).__junctionTestMark === true)
  assert.ok(still, 'the page was reloaded (the document mark is gone)')
}

/**
 * Sequential tests that build on each other: once one fails, the later ones are skipped instead of
 * each waiting out its timeouts on a page in the wrong state.
 */
export function chain(): (name: string, fn: () => Promise<void>) => void {
  let broken: string | undefined
  return (name, fn) => {
    it(name, async (t) => {
      if (broken) {
        t.skip(`an earlier step failed: ${broken}`)
        return
      }
      try {
        await fn()
      } catch (err) {
        broken = name
        throw err
      }
    })
  }
}

/** Horizontal overflow of the page at the current viewport (px the document is wider than it). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => {
    const root = (globalThis as any).document.documentElement
    return (root.scrollWidth - root.clientWidth) as number
  })
}

const INTERACTIVE_ROLES = new Set(['button', 'link', 'textbox', 'searchbox', 'checkbox', 'radio', 'combobox', 'listbox', 'spinbutton', 'slider', 'switch', 'menuitem', 'tab'])

/**
 * Interactive nodes of Chromium's full accessibility tree (CDP Accessibility.getFullAXTree) that a
 * screen reader would announce without a name, e.g. an icon button without aria-label.
 */
export async function unnamedInteractive(page: Page): Promise<Array<{ role: string; description: string }>> {
  const cdp = await page.context().newCDPSession(page)
  try {
    await cdp.send('Accessibility.enable')
    const { nodes } = await cdp.send('Accessibility.getFullAXTree')
    return nodes
      .filter((n) => !n.ignored && INTERACTIVE_ROLES.has(String(n.role?.value ?? '')) && String(n.name?.value ?? '').trim() === '')
      .map((n) => ({ role: String(n.role?.value), description: String(n.description?.value ?? '') }))
  } finally {
    await cdp.detach().catch(() => undefined)
  }
}
