/**
 * Library patch: a Produce request encoder of Junction's in place of kafkajs's own.
 *
 * kafkajs's Produce request table (`src/protocol/requests/produce/index.js`) loads the module of
 * the negotiated version with `require('./vN/request')` each time it builds a request, so
 * replacing the exports of those modules in the require cache swaps the encoding for every
 * producer of the thread (the cache is per thread: a Kafka connector's worker thread, or the main
 * thread). Only v3 to v7 are replaced (they all write RecordBatch v2, magic 2); the replacement
 * keeps everything of kafkajs's request but `encode`, and hands a request the encoder declines
 * (`undefined`) to kafkajs's `encode` unchanged. The bytes are the Kafka connector's business
 * (`src/connectors/kafka/produce-encoder.ts`, which compares them with kafkajs's).
 *
 * Guard: at the first call, the installed kafkajs must be the pinned release, its Encoder must
 * take a whole buffer, its v3-v7 request modules must be functions, and after the swap the
 * request table must really build requests through the swapped modules. Otherwise nothing is
 * swapped (the originals are put back), a warning says so once per thread, and kafkajs's own
 * encoder works as before: same bytes, more CPU per record.
 */
import { createRequire } from 'node:module'
import { LibraryPatchError, checkVersion, installedVersion, warnUnpatched, type LibraryPin } from './version-guard.js'

const requireHere = createRequire(import.meta.url)

export const KAFKAJS_PIN: LibraryPin = {
  library: 'kafkajs',
  version: '2.2.4',
  touches: "kafkajs's Produce request modules (src/protocol/requests/produce/v3-v7/request.js, replaced in the require cache), its request table (produce/index.js) and src/protocol/encoder.js",
  file: 'kafkajs.ts',
}

/** The Produce versions whose encoding is replaced: those writing RecordBatch v2. */
export const PRODUCE_VERSIONS = [3, 4, 5, 6, 7] as const

/** Marks a request built by a replaced module, so the guard can see the table uses them. */
const REPLACED = Symbol('junction.producePatch')

/** What kafkajs's request table expects of a request module's result. */
interface KafkajsRequest {
  apiKey: number
  apiVersion: number
  apiName: string
  expectResponse(): boolean
  encode(): Promise<unknown>
}
type RequestModule = (args: unknown) => KafkajsRequest
interface EncoderClass {
  new (initialSize?: number): { writeBuffer(b: Buffer): unknown }
}
type RequestTable = { protocol(v: { version: number }): (args: object) => { request: object } }

/** The kafkajs internals the patch uses, as found in node_modules. */
export interface KafkajsInternals {
  readonly version: string | undefined
  readonly Encoder: unknown
  /** Resolved path and exports of the v3-v7 request modules, in that order. */
  readonly requests: ReadonlyArray<{ readonly path: string; readonly exports: unknown }>
}

/** Throws a LibraryPatchError unless the internals are the pinned release's, in the shape used here. */
export function guardKafkajs(internals: KafkajsInternals): void {
  const { version } = internals
  checkVersion(KAFKAJS_PIN, version)
  const missing = (what: string) => new LibraryPatchError(KAFKAJS_PIN, version, `${what} is missing`)
  const { Encoder } = internals
  if (typeof Encoder !== 'function' || typeof (Encoder.prototype as { writeBuffer?: unknown } | undefined)?.writeBuffer !== 'function') throw missing('the Encoder class with writeBuffer()')
  if (internals.requests.length !== PRODUCE_VERSIONS.length) throw missing('a Produce v3-v7 request module')
  internals.requests.forEach((r, i) => {
    if (typeof r.exports !== 'function') throw missing(`the Produce v${PRODUCE_VERSIONS[i]} request function`)
  })
}

/** A LibraryPatchError for an internal that could not even be loaded. */
function unloadable(version: string | undefined, what: string, err: unknown): LibraryPatchError {
  return new LibraryPatchError(KAFKAJS_PIN, version, `${what} could not be loaded (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`)
}

/** Paths of kafkajs's source files, from its installed root. */
function kafkajsRoot(): string {
  return requireHere.resolve('kafkajs/package.json').replace(/package\.json$/, '')
}

function loadInternals(): KafkajsInternals {
  const version = installedVersion('kafkajs')
  let root: string
  try {
    root = kafkajsRoot()
  } catch (err) {
    throw unloadable(version, 'kafkajs', err)
  }
  let Encoder: unknown
  try {
    Encoder = requireHere(`${root}src/protocol/encoder.js`)
  } catch (err) {
    throw unloadable(version, 'src/protocol/encoder.js', err)
  }
  // In this order: v4 to v7 require the previous version's module when they load.
  const requests = PRODUCE_VERSIONS.map((v) => {
    const file = `src/protocol/requests/produce/v${v}/request.js`
    try {
      const path = requireHere.resolve(`${root}${file}`)
      return { path, exports: requireHere(path) as unknown }
    } catch (err) {
      throw unloadable(version, file, err)
    }
  })
  return { version, Encoder, requests }
}

let installed: boolean | undefined

/**
 * Makes this thread's kafkajs encode Produce v3-v7 requests with `encode` (an `undefined` answer:
 * kafkajs's own encoding for that request). Idempotent per thread: the first call's `encode`
 * stays. False, with kafkajs left as it was and a warning once, when the guard refuses.
 */
export function replaceProduceEncoding<Args>(encode: (args: Args) => Buffer | undefined): boolean {
  if (installed !== undefined) return installed
  let internals: KafkajsInternals | undefined
  try {
    internals = loadInternals()
    guardKafkajs(internals)
    const Encoder = internals.Encoder as EncoderClass
    for (const { path, exports } of internals.requests) {
      const original = exports as RequestModule
      const replaced = (args: Args) => {
        const request = original(args)
        return {
          ...request,
          [REPLACED]: true,
          encode: async () => {
            const body = encode(args)
            if (body === undefined) return request.encode()
            const encoder = new Encoder(body.length)
            encoder.writeBuffer(body)
            return encoder
          },
        }
      }
      requireHere.cache[path]!.exports = replaced
    }
    checkTable(internals.version)
    return (installed = true)
  } catch (err) {
    if (!(err instanceof LibraryPatchError)) throw err
    if (internals) for (const { path, exports } of internals.requests) {
      const entry = requireHere.cache[path]
      if (entry) entry.exports = exports
    }
    warnUnpatched(err, "kafkajs's own Produce encoder is used (the same bytes, more CPU per record).")
    return (installed = false)
  }
}

/** Builds (without encoding) one request per version through kafkajs's own table. */
function checkTable(version: string | undefined): void {
  let table: RequestTable
  try {
    table = requireHere(`${kafkajsRoot()}src/protocol/requests/produce/index.js`) as RequestTable
  } catch (err) {
    throw unloadable(version, 'src/protocol/requests/produce/index.js', err)
  }
  for (const v of PRODUCE_VERSIONS) {
    let request: object
    try {
      request = table.protocol({ version: v })({ acks: -1, timeout: 1, topicData: [] }).request
    } catch (err) {
      throw unloadable(version, `a Produce v${v} request from the table`, err)
    }
    if (!(REPLACED in request)) {
      throw new LibraryPatchError(KAFKAJS_PIN, version, `the Produce request table does not build v${v} requests through the module in the require cache`)
    }
  }
}
