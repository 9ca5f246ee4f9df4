// The console harness itself: Chromium launches, Junction's real listener serves `/` as HTML and
// the login page, the API answers the browser, and the page reaches nothing but loopback.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { assertNoPageProblems, closeBrowser, exactly, field, printShots, shot, startConsole, type ConsoleHarness } from './support.js'

describe('console smoke', () => {
  let h: ConsoleHarness

  before(async () => {
    h = await startConsole()
  })
  after(async () => {
    await h?.close()
    await closeBrowser()
    printShots()
  })

  it('serves the console at / as HTML, with the login page', async () => {
    const res = await h.page.goto(`${h.baseUrl}/`)
    assert.ok(res, 'no response for /')
    assert.equal(res.status(), 200, `GET / answered ${res.status()}: ${(await res.text()).slice(0, 200)}`)
    assert.match(res.headers()['content-type'] ?? '', /text\/html/)
    await field(h.page, 'Username').waitFor({ state: 'visible' })
    await field(h.page, 'Password').waitFor({ state: 'visible' })
    await h.page.getByRole('button', { name: exactly('Log in') }).waitFor({ state: 'visible' })
    assert.match(h.page.url(), /#\/login/)
    await shot(h.page, '00-smoke-login')
  })

  it('the API answers the page (health)', async () => {
    const health = await h.page.evaluate(async () => (await fetch('/api/v1/health')).json())
    assert.equal((health as { status: string }).status, 'ok')
    assertNoPageProblems(h)
  })
})
