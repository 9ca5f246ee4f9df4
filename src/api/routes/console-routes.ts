import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import fastifyStatic from '@fastify/static'

/** Where `vite build --config console/vite.config.ts` writes the console (repo root `dist/console`). */
export const DEFAULT_CONSOLE_DIR = join(fileURLToPath(new URL('../../../', import.meta.url)), 'dist', 'console')

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Junction</title>
<style>body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;background:#f6f7f9;color:#1c2430}
main{max-width:32rem;padding:2rem;background:#fff;border:1px solid #dfe3e8;border-radius:8px}
code{background:#eef1f4;padding:.1rem .3rem;border-radius:4px}</style></head>
<body><main><h1>Junction</h1><p>Console not built: run <code>npm run build</code>, then reload this page.</p>
<p>The REST API works without it: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p></main></body></html>
`

/**
 * The web console (console/, built to dist/console): `index.html` at `/` and the hashed assets
 * under `/assets/`. No authentication here: the console's own login page gets a token from the API.
 * Unknown paths (including unknown `/api/...` ones) still answer the JSON 404.
 */
export async function consoleRoutes(app: FastifyInstance, { dir = DEFAULT_CONSOLE_DIR }: { dir?: string } = {}): Promise<void> {
  // serve: false: only `reply.sendFile`; the routes below decide what is public and how it is cached.
  await app.register(fastifyStatic, { root: dir, serve: false, decorateReply: true, suppressWarning: true })
  const indexFile = join(dir, 'index.html')
  if (!existsSync(indexFile)) app.log.warn(`console not built (${indexFile} missing): / answers a note to run npm run build`)

  app.get('/', {
    config: { public: true },
    schema: { hide: true },
  }, async (_request, reply) => {
    if (!existsSync(indexFile)) {
      return reply.status(200).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT_PAGE)
    }
    // index.html names the current hashed assets: never cache it, so a new build shows at once.
    return reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false })
  })

  app.get<{ Params: { '*': string } }>('/assets/*', {
    config: { public: true },
    schema: { hide: true },
  }, async (request, reply) => {
    // File names carry a content hash: cache them for a year.
    return reply.sendFile(join('assets', request.params['*']), { maxAge: 365 * 24 * 3600 * 1000, immutable: true })
  })

  app.get('/favicon.svg', {
    config: { public: true },
    schema: { hide: true },
  }, async (_request, reply) => reply.sendFile('favicon.svg', { maxAge: 24 * 3600 * 1000 }))
}
