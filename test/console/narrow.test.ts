// The console's list tables on a phone (400x800): each row is a stacked card whose cells carry
// their column name as a label, so nothing scrolls sideways and the Status values and row buttons
// (edit, delete, enable/disable, start/stop) are on screen. Covered: the connectors list (two
// PostgreSQL connectors on the machine's server), the rules list and a rule's actions table (a
// rule with a PostgreSQL action and a fallback), and the deployments list. Each page is also
// checked at 1280x800, where the tables stay ordinary tables. Chromium's own accessibility tree
// must still expose a table with column headers and cells at both widths (screen readers).
// Screenshots: narrow-NN-<page>.png (400 px) and narrow-NN-<page>-wide.png (1280 px).
import assert from 'node:assert/strict'
import { after, before, describe } from 'node:test'
import type { Locator, Page } from 'playwright-core'
import { eventually } from '../support/junction.js'
import { sharedPostgres } from '../support/postgres.js'
import {
  DESKTOP, NARROW, assertNoPageProblems, cellOf, chain, closeBrowser, columnHeaders, exactly, login, printShots, rowWith, shot, startConsole, step,
  tableWithColumn, viewport, type ConsoleHarness,
} from './support.js'

const DEP = 'default'
const connectorsApi = `/api/v1/deployments/${DEP}/connectors`
const rulesApi = `/api/v1/deployments/${DEP}/rules`
const CONNECTOR = 'warehouse'
const RULE = 'hot-readings'

interface Box {
  x: number
  y: number
  width: number
  height: number
}

/** Chromium's accessibility tree (CDP), as a screen reader gets it: roles and names of the table nodes. */
async function axTableNodes(page: Page): Promise<Array<{ role: string; name: string }>> {
  const cdp = await page.context().newCDPSession(page)
  try {
    await cdp.send('Accessibility.enable')
    const { nodes } = await cdp.send('Accessibility.getFullAXTree')
    return nodes
      .filter((n) => !n.ignored && ['table', 'row', 'columnheader', 'cell', 'gridcell'].includes(String(n.role?.value ?? '')))
      .map((n) => ({ role: String(n.role?.value), name: String(n.name?.value ?? '').replace(/\s+/g, ' ').trim() }))
  } finally {
    await cdp.detach().catch(() => undefined)
  }
}

describe('console: list tables at 400 px are stacked cards (no sideways scrolling)', () => {
  let h: ConsoleHarness
  let connectorId = ''
  let ruleId = ''
  const it = chain()

  before(async () => {
    const shared = sharedPostgres()
    h = await startConsole()
    const c = await h.j.api('POST', connectorsApi, {
      name: CONNECTOR, description: 'telemetry store', type: 'postgresql',
      config: { host: shared.host, port: shared.port, database: shared.database, username: shared.user },
    })
    assert.equal(c.status, 201, JSON.stringify(c.body))
    connectorId = c.body.id
    await eventually(() => h.j.api('GET', `${connectorsApi}/${connectorId}`), (r) => r.body.status === 'connected', 'the connector connected', 10_000)
    // A second row, so the list shows how the cards are told apart.
    const second = await h.j.api('POST', connectorsApi, {
      name: 'archive', type: 'postgresql', config: { host: shared.host, port: shared.port, database: shared.database, username: shared.user },
    })
    assert.equal(second.status, 201, JSON.stringify(second.body))
    const r = await h.j.api('POST', rulesApi, {
      name: RULE, sql: 'SELECT clientid, payload.temp AS temp FROM "sensors/#" WHERE payload.temp > 20',
      actions: [{
        connectorId,
        // Nothing is published: a statement that needs no table passes the check on save.
        params: { sql: "SELECT pg_notify('narrow_readings', ${clientid})" },
        fallback: { builtin: 'republish', params: { topic: 'lost/${clientid}', payload: '${.}', qos: 1 } },
      }],
    })
    assert.equal(r.status, 201, JSON.stringify(r.body))
    ruleId = r.body.id
  })
  after(async () => {
    if (h?.problems.consoleErrors.length) console.log(`console.error in the page:\n  ${h.problems.consoleErrors.join('\n  ')}`)
    await h?.close()
    await closeBrowser()
    printShots()
  })

  const page = () => h.page

  /** Fails unless the element's box lies inside the 400 px viewport, with room to tap. */
  async function assertOnScreen(l: Locator, what: string, minWidth = 1): Promise<Box> {
    await l.waitFor({ state: 'visible' })
    await l.scrollIntoViewIfNeeded()
    const box = await l.boundingBox()
    assert.ok(box, `${what} has a box`)
    assert.ok(box.x >= 0 && box.x + box.width <= NARROW.width, `${what} lies within the ${NARROW.width} px viewport: ${JSON.stringify(box)}`)
    assert.ok(box.width >= minWidth, `${what} is at least ${minWidth} px wide (not squashed): ${JSON.stringify(box)}`)
    return box
  }

  /** No sideways scrolling: neither the page nor any .table-wrap is wider than its box. */
  async function assertNoSidewaysScroll(what: string): Promise<void> {
    const m = await page().evaluate(() => {
      const g = globalThis as any
      const root = g.document.documentElement
      const wraps = [...g.document.querySelectorAll('.table-wrap')].map((w: any) => ({ scrollWidth: w.scrollWidth as number, clientWidth: w.clientWidth as number }))
      return { scrollWidth: root.scrollWidth as number, innerWidth: g.innerWidth as number, wraps }
    })
    assert.ok(m.scrollWidth <= m.innerWidth, `${what}: the page is ${m.scrollWidth} px wide in a ${m.innerWidth} px window`)
    assert.ok(m.wraps.length > 0, `${what}: a .table-wrap on the page`)
    for (const w of m.wraps) assert.ok(w.scrollWidth <= w.clientWidth + 1, `${what}: a .table-wrap scrolls sideways (${w.scrollWidth} > ${w.clientWidth})`)
  }

  /**
   * The table as the user sees it: at 400 px each body cell shows its column name (data-label,
   * drawn by ::before) and the header row is visually hidden; at 1280 px a plain table with its
   * header row and no labels.
   */
  async function assertLayout(table: Locator, narrow: boolean, what: string): Promise<void> {
    const headers = await columnHeaders(table)
    const info = await table.evaluate((t: any) => {
      const g = globalThis as any
      const thead = t.querySelector('thead')
      const cells = [...t.querySelectorAll('tbody tr')].map((tr: any) =>
        [...tr.children].map((td: any) => ({ label: td.getAttribute('data-label'), before: g.getComputedStyle(td, '::before').content as string })),
      )
      return {
        display: g.getComputedStyle(t).display as string,
        theadHeight: thead.getBoundingClientRect().height as number,
        cells,
      }
    })
    assert.ok(info.cells.length > 0, `${what}: body rows`)
    for (const row of info.cells) {
      assert.deepEqual(row.map((c: { label: string | null }) => c.label), headers, `${what}: every cell's data-label is its column header`)
      for (const [i, c] of row.entries()) {
        if (narrow) assert.equal(c.before, JSON.stringify(headers[i]), `${what}: the cell under "${headers[i]}" shows its label`)
        else assert.ok(c.before === 'none' || c.before === 'normal', `${what}: no label before a cell in the wide table (${c.before})`)
      }
    }
    if (narrow) {
      assert.notEqual(info.display, 'table', `${what}: the table is stacked at ${NARROW.width} px`)
      assert.ok(info.theadHeight <= 1, `${what}: the header row is visually hidden at ${NARROW.width} px (${info.theadHeight} px)`)
    } else {
      assert.equal(info.display, 'table', `${what}: an ordinary table at ${DESKTOP.width} px`)
      assert.ok(info.theadHeight > 20, `${what}: the header row shows at ${DESKTOP.width} px (${info.theadHeight} px)`)
    }
    // Screen readers: Chromium's tree still has the table, its column headers and the cells.
    const ax = await axTableNodes(page())
    assert.ok(ax.some((n) => n.role === 'table'), `${what}: a table in Chromium's accessibility tree: ${JSON.stringify(ax.slice(0, 20))}`)
    // (Chromium's names follow the headers' CSS text-transform: compare without case.)
    const axHeaders = ax.filter((n) => n.role === 'columnheader').map((n) => n.name.toLowerCase())
    for (const c of headers) assert.ok(axHeaders.includes(c.toLowerCase()), `${what}: column header "${c}" in Chromium's accessibility tree: ${JSON.stringify(axHeaders)}`)
    assert.ok(ax.filter((n) => n.role === 'cell' || n.role === 'gridcell').length >= headers.length, `${what}: cells in Chromium's accessibility tree`)
  }

  /** The wide check and screenshot, then the narrow one; back to 1280 px at the end. */
  async function bothWidths(table: () => Locator, name: string, narrowChecks: () => Promise<void>): Promise<void> {
    const p = page()
    await viewport(p, DESKTOP)
    await table().waitFor({ state: 'visible' })
    await shot(p, `${name}-wide`)
    await assertLayout(table(), false, `${name} at ${DESKTOP.width} px`)
    await viewport(p, NARROW)
    try {
      await assertLayout(table(), true, `${name} at ${NARROW.width} px`)
      await assertNoSidewaysScroll(`${name} at ${NARROW.width} px`)
      await narrowChecks()
      await assertNoSidewaysScroll(`${name} at ${NARROW.width} px`)
      await shot(p, name)
    } finally {
      await viewport(p, DESKTOP)
    }
  }

  it('login', async () => {
    const p = page()
    await step(p, 'narrow-login', async () => {
      await h.goto('/')
      await login(p)
    })
  })

  it('connectors list: Status, Rules and the edit/delete buttons are on screen at 400 px', async () => {
    const p = page()
    const table = () => tableWithColumn(p, 'ID')
    await step(p, 'narrow-connectors', async () => {
      await h.goto(`/#/deployments/${DEP}/connectors`)
      await p.getByRole('heading', { level: 1, name: exactly('Connectors') }).waitFor()
      await bothWidths(table, 'narrow-01-connectors', async () => {
        const row = rowWith(table(), CONNECTOR)
        const status = await cellOf(table(), row, 'Status')
        await status.getByText('connected', { exact: true }).waitFor()
        await assertOnScreen(status.getByText('connected', { exact: true }), 'the connector status')
        const rules = await cellOf(table(), row, 'Rules')
        assert.equal((await rules.innerText()).replace(/^Rules\s*/i, '').trim(), '1', 'the connector is used by one rule')
        await assertOnScreen(rules, 'the Rules cell')
        await assertOnScreen(row.getByRole('button', { name: exactly(`Edit ${CONNECTOR}`) }), 'the Edit button', 28)
        await assertOnScreen(row.getByRole('button', { name: exactly(`Delete ${CONNECTOR}`) }), 'the Delete button', 28)
        await assertOnScreen(row.getByRole('link', { name: exactly(CONNECTOR) }), 'the connector name link')
      })
    })
  })

  it('rules list: Status, Matched, Rate and the enable/edit/delete buttons are on screen at 400 px', async () => {
    const p = page()
    const table = () => tableWithColumn(p, 'Matched')
    await step(p, 'narrow-rules', async () => {
      await h.goto(`/#/deployments/${DEP}/rules`)
      await p.getByRole('heading', { level: 1, name: exactly('Rules') }).waitFor()
      await bothWidths(table, 'narrow-02-rules', async () => {
        const row = rowWith(table(), RULE)
        const status = await cellOf(table(), row, 'Status')
        await assertOnScreen(status.getByText('enabled', { exact: true }), 'the rule status')
        await assertOnScreen(await cellOf(table(), row, 'Matched'), 'the Matched cell')
        await assertOnScreen(await cellOf(table(), row, 'Rate'), 'the Rate cell')
        await assertOnScreen(row.getByRole('button', { name: exactly(`Disable ${RULE}`) }), 'the Disable button', 50)
        await assertOnScreen(row.getByRole('button', { name: exactly(`Edit ${RULE}`) }), 'the Edit button', 28)
        await assertOnScreen(row.getByRole('button', { name: exactly(`Delete ${RULE}`) }), 'the Delete button', 28)
      })
    })
  })

  it("a rule's actions table: every counter and the last error are on screen at 400 px", async () => {
    const p = page()
    const table = () => tableWithColumn(p, 'Target')
    await step(p, 'narrow-rule-actions', async () => {
      await h.goto(`/#/deployments/${DEP}/rules/${ruleId}`)
      await p.getByRole('heading', { level: 1, name: exactly(RULE) }).waitFor()
      await bothWidths(table, 'narrow-03-rule-actions', async () => {
        const row = table().getByRole('row').filter({ hasNot: p.getByRole('columnheader') }).first()
        for (const c of ['Target', 'Matched', 'Success', 'Failed', 'Dropped', 'Queuing', 'Rate', 'Last error']) {
          await assertOnScreen(await cellOf(table(), row, c), `the ${c} cell`)
        }
        await assertOnScreen(row.getByRole('link').first(), 'the target connector link')
      })
    })
  })

  it('deployments list: Status and the Stop button are on screen at 400 px', async () => {
    const p = page()
    const table = () => tableWithColumn(p, 'Plan')
    await step(p, 'narrow-deployments', async () => {
      await h.goto('/#/deployments')
      await p.getByRole('heading', { level: 1, name: exactly('Deployments') }).waitFor()
      await bothWidths(table, 'narrow-04-deployments', async () => {
        const row = rowWith(table(), DEP)
        const status = await cellOf(table(), row, 'Status')
        await assertOnScreen(status.getByText('running', { exact: true }), 'the deployment status')
        await assertOnScreen(await cellOf(table(), row, 'MQTT'), 'the MQTT address')
        await assertOnScreen(row.getByRole('button', { name: exactly(`Stop ${DEP}`) }), 'the Stop button', 40)
      })
      assertNoPageProblems(h)
    })
  })
})
