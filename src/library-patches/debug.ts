/**
 * Library patch: cheaper `debug` loggers for the MQTT libraries, installed before they load.
 *
 * aedes and mqtt-packet call their `debug(...)` loggers some twenty times per MQTT packet. The
 * `debug` package's logger gathers its arguments into a rest array before it checks whether it
 * is enabled, so with logging off those calls still made ~18 % of every byte the broker thread
 * allocated under load (and a few % of its CPU, plus the garbage collections). When DEBUG is not
 * set, logging stays off (nothing in Junction turns it on), and loggers are created wrapped: the
 * wrapper checks `enabled` first and allocates nothing; should a logger be enabled after all
 * (`debug.enable()`), it forwards its arguments unchanged. With DEBUG set, nothing is replaced.
 *
 * Must be imported before aedes, mqtt-packet or mqtt: loggers are created when those modules
 * load, so the entry points import this module first.
 *
 * Reaches into: the module cache entry of each resolved copy of `debug` (its exports replaced),
 * and a logger's `enabled`, `namespace`, `log`, `extend` and display properties. Guard: every
 * copy must be the pinned release and its factory must make loggers of that shape; otherwise
 * that copy is left alone (logging works the same, only slower) and a warning says so once.
 */
import { createRequire } from 'node:module'
import { LibraryPatchError, checkVersion, installedVersion, warnUnpatched, type LibraryPin } from './version-guard.js'

const require = createRequire(import.meta.url)

export const DEBUG_PIN: LibraryPin = {
  library: 'debug',
  version: '4.4.3',
  touches: "debug's module cache entry and its loggers' enabled/namespace/log/extend properties",
  file: 'debug.ts',
}
const QUIET = Symbol.for('junction.quietDebug')

type Logger = ((...args: unknown[]) => void) & {
  enabled: boolean
  namespace: string
  log: (...args: unknown[]) => void
  extend(namespace: string, delimiter?: string): Logger
  [key: string]: unknown
}
type Factory = ((namespace: string) => Logger) & Record<string | symbol, unknown>

/** Libraries whose `debug` is replaced (each may resolve its own copy). */
const USERS = ['aedes', 'mqtt-packet', 'mqtt', 'aedes-persistence', 'mqemitter']

/**
 * Installs the wrapper into the module cache. False when DEBUG is set (nothing done) or when a
 * copy of `debug` failed the guard (that copy keeps its own loggers).
 */
export function installQuietDebug(): boolean {
  if (process.env.DEBUG) return false
  const paths = new Map<string, string | undefined>()
  for (const user of [undefined, ...USERS]) {
    try {
      const from = user === undefined ? undefined : require.resolve(user)
      const path = (from === undefined ? require : createRequire(from)).resolve('debug')
      if (!paths.has(path)) paths.set(path, installedVersion('debug', from))
    } catch { /* not installed, or no debug of its own */ }
  }
  let all = true
  for (const [path, version] of paths) {
    const real = require(path) as Factory
    if (real[QUIET]) continue
    try {
      guardDebug(version, real)
    } catch (err) {
      if (!(err instanceof LibraryPatchError)) throw err
      warnUnpatched(err, `The MQTT libraries' debug loggers stay as they are (correct, but they allocate on every call while off).`)
      all = false
      continue
    }
    const entry = require.cache[path]
    if (entry) entry.exports = quietFactory(real)
  }
  return all
}

/**
 * Throws a LibraryPatchError unless `version` is the pinned one and `factory` makes loggers with
 * what the wrapper forwards to (a fresh logger is made to look; debug keeps no list of them).
 */
export function guardDebug(version: string | undefined, factory: unknown): void {
  checkVersion(DEBUG_PIN, version)
  const missing = (what: string) => new LibraryPatchError(DEBUG_PIN, version, `${what} is missing`)
  if (typeof factory !== 'function') throw missing('the module export (a logger factory)')
  if (typeof (factory as Factory).enable !== 'function') throw missing('the factory\'s enable()')
  const logger: unknown = (factory as Factory)('junction:library-patch-check')
  if (typeof logger !== 'function') throw missing('a logger (the factory\'s result)')
  const props = logger as unknown as Record<string, unknown>
  // Not a boolean before anything is enabled (debug leaves its cache undefined): only its presence is checked.
  if (!('enabled' in props)) throw missing('a logger\'s `enabled`')
  if (typeof props.namespace !== 'string') throw missing('a logger\'s `namespace`')
  if (typeof props.extend !== 'function') throw missing('a logger\'s extend()')
}

function quietFactory(real: Factory): Factory {
  const quiet = ((namespace: string) => quietLogger(real(namespace))) as Factory
  // enable, disable, enabled(name), coerce, formatters...: the real module's, same closures.
  for (const key of Object.keys(real)) quiet[key] = real[key]
  quiet.default = quiet
  quiet.debug = quiet
  quiet[QUIET] = true
  return quiet
}

function quietLogger(real: Logger): Logger {
  // Named parameters instead of a rest array: a call with logging off allocates nothing.
  const quiet = function (a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown, f?: unknown, g?: unknown, h?: unknown): void {
    if (!real.enabled) return
    const args = [a, b, c, d, e, f, g, h]
    let n = args.length
    while (n > 0 && args[n - 1] === undefined) n--
    real(...args.slice(0, n))
  } as Logger
  for (const key of ['enabled', 'namespace', 'log', 'useColors', 'color', 'diff', 'inspectOpts']) {
    Object.defineProperty(quiet, key, { get: () => real[key], set: (v: unknown) => { real[key] = v }, enumerable: true })
  }
  quiet.extend = (namespace: string, delimiter?: string) => quietLogger(real.extend(namespace, delimiter))
  return quiet
}

installQuietDebug()
