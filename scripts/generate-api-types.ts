// Writes src/core/api-types.ts, the API's types for the console and the CLI (the CLI may import
// nothing outside src/cli and src/core, the console imports it type-only), from the API's OpenAPI
// document (a Junction started in-process on a temporary data dir, nothing listening).
// `npm run generate:api-types`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { openApiToTypeScript } from '../src/api/openapi-typescript.js'
import { createJunction } from '../src/server.js'
import { DEFAULT_SETTINGS } from '../src/settings.js'

export const GENERATED_TYPES = fileURLToPath(new URL('../src/core/api-types.ts', import.meta.url))

export async function currentApiTypes(): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'junction-api-types-'))
  const junction = await createJunction({ ...DEFAULT_SETTINGS, dataDir, httpHost: '127.0.0.1', httpPort: 0, mqttHost: '127.0.0.1', mqttPort: 0, apiKey: 'generator', apiSecret: 'generator-secret-0123456789', adminPassword: 'generator-password' }, { logger: pino({ level: 'silent' }) })
  try {
    await junction.app.ready()
    return openApiToTypeScript(junction.app.swagger() as never)
  } finally {
    await junction.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const types = await currentApiTypes()
  writeFileSync(GENERATED_TYPES, types)
  console.log(`wrote ${GENERATED_TYPES}`)
}
