/**
 * `junction serve`: the package's bin (package.json `bin`, built by `npm test`/`npm run build`)
 * runs the server as `npm start` does, and the same bin's client commands reach it.
 */
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { it } from 'node:test'
import { API_KEY, API_SECRET } from '../support/junction.js'
import { junctionProcessSetup } from '../support/junction-process.js'

const ROOT = new URL('../../', import.meta.url).pathname

it('the bin is the CLI; `junction serve` starts the server, `junction status` sees it, SIGTERM stops it', async () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  assert.equal(pkg.bin.junction, 'dist/cli/main.js')
  assert.equal(pkg.scripts.start.endsWith('dist/main.js'), true, 'npm start keeps running the server entry')
  const bin = join(ROOT, pkg.bin.junction)
  assert.match(readFileSync(bin, 'utf8'), /^#!\/usr\/bin\/env -S node/, 'the built bin has its shebang')

  const { env } = await junctionProcessSetup()
  const child = spawn(process.execPath, [bin, 'serve'], { cwd: ROOT, env: { ...process.env, JUNCTION_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d) => { out += String(d) })
  child.stderr.on('data', (d) => { out += String(d) })
  try {
    const end = Date.now() + 30_000
    while (!/ready in \d+ ms/.test(out)) {
      if (Date.now() > end || child.exitCode !== null) assert.fail(`not ready:\n${out}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    const status = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(process.execPath, [bin, 'status', '--json', '--url', `http://127.0.0.1:${env.JUNCTION_HTTP_PORT}`, '--api-key', API_KEY, '--api-secret', API_SECRET], (err, stdout) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout }))
    })
    assert.equal(status.code, 0)
    assert.equal(JSON.parse(status.stdout).status, 'ok')
  } finally {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
    child.kill('SIGTERM')
    assert.equal(await exited, 0, out)
  }
})
