#!/usr/bin/env node
// The project's test command: type-check, check the layers (docs/architecture.md), build what
// changed (the browser tests use the built console), make sure the test services run (Kafka from
// Maven jars, the machine's PostgreSQL, Debian's Chromium), then every *.test.ts under src/ and
// test/ with node's runner, in two lanes one after the other:
// - most files, several at a time (JUNCTION_TEST_CONCURRENCY, default: the CPU count + 1). Their
//   time is mostly waiting on servers, processes and timers, so on the project's 2-core machine
//   three at a time take about half the time of one at a time. They share the machine's services
//   only through names of their own (tables, topics, streams, keys) and ports the kernel picks.
// - test/cluster/, one at a time: they run several Junction processes against the one 3-node
//   Artemis cluster of the machine, and one of them stops an Artemis node mid-stream.
// Arguments narrow the run to files whose path contains one of them: `npm test -- kafka`.
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { availableParallelism } from 'node:os'
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

const concurrency = Number(process.env.JUNCTION_TEST_CONCURRENCY ?? availableParallelism() + 1)
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(`JUNCTION_TEST_CONCURRENCY must be a whole number of at least 1, got ${process.env.JUNCTION_TEST_CONCURRENCY}`)
  process.exit(2)
}
const serialLane = (f) => f.startsWith('test/cluster/')
const lanes = [
  { name: 'several at a time', files: files.filter((f) => !serialLane(f)), concurrency },
  { name: 'one at a time (test/cluster/)', files: files.filter(serialLane), concurrency: 1 },
].filter((lane) => lane.files.length > 0)

// Both lanes run even when the first fails, so one run shows every failure; the exit code is the first failure's.
let failed = 0
for (const lane of lanes) {
  const started = Date.now()
  console.log(`> ${lane.files.length} test files, ${lane.name}${lane.concurrency > 1 ? ` (${lane.concurrency})` : ''}`)
  const r = spawnSync('node', ['--import', 'tsx', '--test', `--test-concurrency=${lane.concurrency}`, '--test-timeout=180000', ...lane.files], {
    cwd: root, stdio: 'inherit', env: { ...process.env, JUNCTION_LOG_LEVEL: process.env.JUNCTION_LOG_LEVEL ?? 'silent' },
  })
  console.log(`> ${lane.name}: ${r.status === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 60_000).toFixed(1)} min`)
  if (r.status !== 0 && failed === 0) failed = r.status ?? 1
}
process.exit(failed)
