/**
 * Cheaper `debug` loggers for the MQTT libraries, installed before they load.
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
 */
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
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

/** Installs the wrapper into the module cache; false when DEBUG is set (nothing done). */
export function installQuietDebug(): boolean {
  if (process.env.DEBUG) return false
  const paths = new Set<string>()
  for (const user of [undefined, ...USERS]) {
    try {
      const from = user === undefined ? require : createRequire(require.resolve(user))
      paths.add(from.resolve('debug'))
    } catch { /* not installed, or no debug of its own */ }
  }
  for (const path of paths) {
    const real = require(path) as Factory
    if (real[QUIET]) continue
    const entry = require.cache[path]
    if (entry) entry.exports = quietFactory(real)
  }
  return true
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
