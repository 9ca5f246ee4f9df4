#!/usr/bin/env node
// Cold start and idle memory of `npm start` (node --max-semi-space-size=32 dist/main.js) on a fresh data dir: time from
// process spawn to the "ready" log line, and RSS after it has idled. Run `npm run build` first.
//   node bench/startup.mjs [runs=5]
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const runs = Number(process.argv[2] ?? 5)
const root = new URL('..', import.meta.url).pathname

const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)) })
})

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024
}

async function once(firstStart) {
  const dataDir = mkdtempSync(join(tmpdir(), 'junction-bench-'))
  const env = { ...process.env, JUNCTION_DATA_DIR: dataDir, JUNCTION_HTTP_HOST: '127.0.0.1', JUNCTION_HTTP_PORT: String(await freePort()), JUNCTION_MQTT_HOST: '127.0.0.1', JUNCTION_MQTT_PORT: String(await freePort()), JUNCTION_ADMIN_PASSWORD: 'bench' }
  const results = []
  for (const label of firstStart ? ['first start', 'restart'] : ['restart']) {
    const t0 = performance.now()
    const child = spawn(process.execPath, ['--max-semi-space-size=32', 'dist/main.js'], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] })
    await new Promise((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (d) => { out += d; if (/ready in/.test(out)) resolve() })
      child.once('exit', () => reject(new Error(`exited before ready:\n${out}`)))
    })
    const readyMs = performance.now() - t0
    await new Promise((r) => setTimeout(r, 3000))
    const idle = rssMb(child.pid)
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
    results.push({ label, readyMs, idle })
  }
  rmSync(dataDir, { recursive: true, force: true })
  return results
}

const all = []
for (let i = 0; i < runs; i++) {
  all.push(...(await once(true)))
  process.stdout.write('.')
}
process.stdout.write('\n')
for (const label of ['first start', 'restart']) {
  const r = all.filter((x) => x.label === label)
  const ms = r.map((x) => x.readyMs).sort((a, b) => a - b)
  const mb = r.map((x) => x.idle).sort((a, b) => a - b)
  console.log(`${label.padEnd(12)} ready: median ${ms[ms.length >> 1].toFixed(0)} ms (min ${ms[0].toFixed(0)}, max ${ms.at(-1).toFixed(0)})  idle RSS: median ${mb[mb.length >> 1].toFixed(1)} MB (max ${mb.at(-1).toFixed(1)})  n=${r.length}`)
}
