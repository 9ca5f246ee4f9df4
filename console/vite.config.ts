import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

/** An absolute path next to this file (no node: imports, so console/tsconfig.json needs only DOM types). */
const here = (p: string): string => decodeURIComponent(new URL(p, import.meta.url).pathname)

// The console is a static bundle that Junction serves at `/` (src/api/routes/console-routes.ts).
export default defineConfig({
  root: here('.'),
  base: './',
  publicDir: here('./public'),
  plugins: [react()],
  build: {
    outDir: here('../dist/console'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
  server: {
    // `npx vite --config console/vite.config.ts` for development against a Junction on :18083.
    proxy: { '/api': 'http://127.0.0.1:18083' },
  },
})
