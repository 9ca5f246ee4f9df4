#!/usr/bin/env -S node --max-semi-space-size=32
// The flag (also in `npm start`): a 32 MB young generation halves the broker thread's scavenge
// time under load (docs/performance.md).
import './library-patches/debug.js'
import { performance } from 'node:perf_hooks'
import { createJunction } from './server.js'
import { loadSettings } from './settings.js'
import { SecretKeyMismatchError } from './store/store.js'

// Entry point of `npm start`: settings from JUNCTION_* variables (or a config file), then serve.
const settings = (() => {
  try {
    return loadSettings()
  } catch (err) {
    console.error(`junction: ${(err as Error).message}`)
    process.exit(2)
  }
})()

const junction = await createJunction(settings).catch((err: unknown) => {
  // A node whose secret key does not fit the store must say so plainly, not with a stack trace.
  if (err instanceof SecretKeyMismatchError) {
    console.error(`junction: refusing to start: ${err.message}`)
    process.exit(2)
  }
  throw err
})
const url = await junction.listen()
const deployments = await junction.deployments.list()
for (const d of deployments) {
  // One URL per listener (the first reachable address); the API and console list them all.
  const where = d.mqtt.addresses.length > 0 ? d.mqtt.addresses.map((l) => l.urls[0]).join(', ') : `${d.status}${d.statusReason ? ` (${d.statusReason})` : ''}`
  junction.logger.info(`deployment ${d.id} (${d.plan}): ${where}`)
}
junction.logger.info(`Junction ${url} ready in ${Math.round(performance.now())} ms (API ${url}/api/v1, OpenAPI ${url}/api/v1/openapi.json)`)
if (junction.generatedAdminPassword) {
  // Shown once, on first start only: it is not stored anywhere in clear.
  process.stdout.write(`\n  Console login: admin / ${junction.generatedAdminPassword}\n  (generated on first start and shown only now; set JUNCTION_ADMIN_PASSWORD to choose it)\n\n`)
}

let stopping = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1)
    stopping = true
    junction.logger.info(`${signal}: stopping`)
    junction.close().then(() => process.exit(0), (err: unknown) => {
      junction.logger.error({ err }, 'error while stopping')
      process.exit(1)
    })
  })
}
