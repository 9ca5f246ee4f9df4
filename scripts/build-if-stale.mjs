#!/usr/bin/env node
// `npm start` runs this first: it compiles only when a source file is newer than the last build,
// so a start after `npm ci` (which builds) costs no compile, and a start after an edit is never stale.
// The same for the web console: console/ newer than dist/console/index.html rebuilds it with Vite.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const stamp = join(root, 'dist', '.tsbuildinfo')

function newest(dir) {
  let t = 0
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    const s = statSync(p)
    t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs)
  }
  return t
}

const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0
const sources = Math.max(newest(join(root, 'src')), statSync(join(root, 'package.json')).mtimeMs, statSync(join(root, 'tsconfig.json')).mtimeMs)
if (sources > built) {
  console.log('junction: compiling (sources changed since the last build)...')
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
  // An incremental build with nothing to emit leaves the stamp's time as it was.
  const now = new Date()
  utimesSync(stamp, now, now)
}

const consoleDir = join(root, 'console')
const consoleIndex = join(root, 'dist', 'console', 'index.html')
if (existsSync(consoleDir)) {
  const consoleBuilt = existsSync(consoleIndex) ? statSync(consoleIndex).mtimeMs : 0
  const consoleSources = Math.max(newest(consoleDir), statSync(join(root, 'package.json')).mtimeMs)
  if (consoleSources > consoleBuilt) {
    console.log('junction: building the web console (console/ changed since the last build)...')
    const r = spawnSync(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(consoleDir, 'vite.config.ts'), '--logLevel', 'warn'], { stdio: 'inherit', cwd: root })
    if (r.status !== 0) process.exit(r.status ?? 1)
  }
}
