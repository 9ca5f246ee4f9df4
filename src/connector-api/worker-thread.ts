import { Worker, type WorkerOptions } from 'node:worker_threads'
import type { ConnectorErrorCode, FailureKind } from './error-codes.js'
import { ConnectorError } from './errors.js'

/**
 * Starts a connector's worker thread from `entry`, the compiled module's URL (`./x-worker.js`
 * beside the caller), whether Junction runs compiled or from source under tsx. Node passes
 * `--import tsx` on to workers, but on Node 20 tsx registers its hooks on the main thread only,
 * so from source the `.ts` entry is imported by a small bootstrap: when Node refuses the `.ts`
 * extension, it registers tsx's API and imports the entry again under another URL (the failed
 * load is cached under the first). Where tsx does register in workers, the first import works.
 */
export function startWorkerThread(entry: URL, options: WorkerOptions & { name: string }): Worker {
  // The kit and the connectors run the same way: this module's extension says which.
  if (!import.meta.url.endsWith('.ts')) return new Worker(entry, options)
  const source = new URL(entry.href.replace(/\.js$/, '.ts'))
  const tsx = import.meta.resolve('tsx/esm/api')
  const bootstrap = `
    const entry = ${JSON.stringify(source.href)}
    import(entry).catch(async (err) => {
      if (err?.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw err
      const { register } = await import(${JSON.stringify(tsx)})
      register()
      await import(entry + '?tsx')
    })`
  return new Worker(bootstrap, { ...options, eval: true })
}

/**
 * An error as it crosses a thread boundary. Structured clone keeps only an Error's name, message
 * and stack; this keeps its other plain fields too (a library's `code`, `type`, `retriable`...),
 * the `cause` chain, and a ConnectorError's code, kind and hint, so the receiving thread
 * classifies it as the sending one would have.
 */
export interface WireError {
  readonly name?: string
  readonly message?: string
  readonly stack?: string
  /** Own fields whose values are strings, numbers or booleans. */
  readonly fields?: Readonly<Record<string, string | number | boolean>>
  readonly cause?: WireError
  /** Set when the error was a ConnectorError. */
  readonly connector?: { readonly code: ConnectorErrorCode; readonly kind: FailureKind; readonly hint?: string }
}

/** Libraries wrap errors a few levels deep at most; more is a loop. */
const MAX_CAUSES = 5

export function errorToWire(err: unknown, depth = 0): WireError {
  if (typeof err !== 'object' || err === null) return { message: String(err) }
  const e = err as Record<string, unknown>
  const w: { -readonly [K in keyof WireError]: WireError[K] } = {}
  if (typeof e.name === 'string') w.name = e.name
  if (typeof e.message === 'string') w.message = e.message
  if (typeof e.stack === 'string') w.stack = e.stack
  const fields: Record<string, string | number | boolean> = {}
  for (const [k, v] of Object.entries(e)) {
    if (k !== 'name' && k !== 'message' && k !== 'stack' && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) fields[k] = v
  }
  if (Object.keys(fields).length > 0) w.fields = fields
  if (err instanceof ConnectorError) w.connector = { code: err.code, kind: err.kind, ...(err.hint === undefined ? {} : { hint: err.hint }) }
  if (depth < MAX_CAUSES && typeof e.cause === 'object' && e.cause !== null) w.cause = errorToWire(e.cause, depth + 1)
  return w
}

/** The error again: a ConnectorError as it was made, anything else an Error carrying the same fields. */
export function errorFromWire(w: WireError): Error {
  const cause = w.cause === undefined ? undefined : errorFromWire(w.cause)
  if (w.connector) {
    const { code, kind, hint } = w.connector
    return new ConnectorError(code, w.message ?? '', { kind, ...(hint === undefined ? {} : { hint }), ...(cause === undefined ? {} : { cause }) })
  }
  const err = Object.assign(new Error(w.message ?? ''), w.fields) as Error & Record<string, unknown>
  // An error without a name stays without one (classifiers read `name ?? ...`).
  err.name = w.name ?? (undefined as unknown as string)
  if (w.stack !== undefined) err.stack = w.stack
  if (cause !== undefined) err.cause = cause
  return err
}
