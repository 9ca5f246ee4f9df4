#!/usr/bin/env node
// The project's test command: type-check, check the layers (docs/architecture.md), build what
// changed (the browser tests use the built console), make sure the test services run (Kafka from
// Maven jars, the machine's PostgreSQL, Debian's Chromium), then every *.test.ts under src/ and
// test/ with node's runner.
// Arguments narrow the run to files whose path contains one of them: `npm test -- kafka`.
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const filters = process.argv.slice(2)

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } })
  if (r.status !== 0) process.exit(r.status ?? 1)
}

function findTests(dir) {
  const out = []
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...findTests(p))
    else if (name.endsWith('.test.ts')) out.push(relative(root, p))
  }
  return out
}

const files = [...findTests(join(root, 'src')), ...findTests(join(root, 'test'))]
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort()
if (files.length === 0) {
  console.error('no test files match', filters)
  process.exit(1)
}

console.log('> type-check')
run('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit'])
run('npx', ['tsc', '-p', 'console/tsconfig.json', '--noEmit'])
console.log('> layers (npm run lint:layers; the rules are in .dependency-cruiser.cjs)')
run('npm', ['run', '--silent', 'lint:layers'])
console.log('> build (server and console, only what changed)')
run('node', ['scripts/build-if-stale.mjs'])
console.log('> test services')
run('node', ['scripts/test-services.mjs'])
if (files.some((f) => f.startsWith('test/console/'))) run('node', ['scripts/ensure-chromium.mjs'])
console.log(`> ${files.length} test files`)
run('node', ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=180000', ...files], { JUNCTION_LOG_LEVEL: process.env.JUNCTION_LOG_LEVEL ?? 'silent' })
