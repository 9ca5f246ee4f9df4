#!/usr/bin/env node
// Makes sure the system Chromium the console tests drive (through playwright-core) is installed.
// Idempotent: when /usr/bin/chromium exists it exits at once. Otherwise it runs
// `apt-get install -y chromium` (Debian), and `apt-get update` first when the install fails
// because the package lists are missing or stale. Playwright's own browser download is never
// used. Exits non-zero with a clear message when Chromium cannot be installed.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const CHROMIUM = process.env.JUNCTION_TEST_CHROMIUM ?? '/usr/bin/chromium'

if (existsSync(CHROMIUM)) process.exit(0)

function fail(message) {
  console.error(`ensure-chromium: ${message}`)
  console.error('ensure-chromium: the console tests (test/console/) need Chromium; install it with `apt-get install -y chromium` (as root) and run the tests again.')
  process.exit(1)
}

const hasAptGet = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0
if (!hasAptGet) fail(`${CHROMIUM} is missing and apt-get is not available on this machine.`)
if (process.getuid?.() !== 0) fail(`${CHROMIUM} is missing and installing it needs root (this process runs as uid ${process.getuid?.()}).`)

const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }

/** Runs apt-get showing its output as it goes; also keeps the output to recognise missing lists. */
function aptGet(args) {
  console.log(`ensure-chromium: apt-get ${args.join(' ')}`)
  const r = spawnSync('apt-get', args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 })
  if (r.stdout) process.stdout.write(r.stdout)
  if (r.stderr) process.stderr.write(r.stderr)
  if (r.error) fail(`apt-get could not be run: ${r.error.message}`)
  return { status: r.status, output: `${r.stdout ?? ''}\n${r.stderr ?? ''}` }
}

console.log(`ensure-chromium: ${CHROMIUM} not found; installing the Debian chromium package (this can take a minute)...`)
let install = aptGet(['install', '-y', 'chromium'])
if (install.status !== 0) {
  // "Unable to locate package", "has no installation candidate" or 404s on stale lists: refresh once.
  const staleLists = /Unable to locate package|no installation candidate|Failed to fetch|404\s+Not Found|Try running apt-get update/i.test(install.output)
  if (!staleLists) fail(`apt-get install chromium failed (exit ${install.status}); see its output above.`)
  const update = aptGet(['update'])
  if (update.status !== 0) fail(`apt-get update failed (exit ${update.status}); see its output above.`)
  install = aptGet(['install', '-y', 'chromium'])
  if (install.status !== 0) fail(`apt-get install chromium failed after apt-get update (exit ${install.status}); see its output above.`)
}
if (!existsSync(CHROMIUM)) fail(`apt-get reported success but ${CHROMIUM} is still missing.`)
const version = spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8' })
console.log(`ensure-chromium: installed ${(version.stdout || '').trim() || CHROMIUM}`)
