import { pino, type Logger } from 'pino'
import type { RuntimeLogger } from './runtime/deployment-runtime.js'

/**
 * The process logger. Redaction is a second line of defence: config and secrets are never passed
 * to it in the first place.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: undefined,
    redact: { paths: ['req.headers.authorization', '*.password', '*.secret', '*.apiSecret', '*.clientKey', 'config'], censor: '******' },
  })
}

/** Adapts pino to the small logger interface connectors and runtimes get. */
export function runtimeLogger(logger: Logger): RuntimeLogger {
  const log = (level: 'debug' | 'info' | 'warn' | 'error') => (msg: string, data?: Record<string, unknown>) => {
    if (data) logger[level](data, msg)
    else logger[level](msg)
  }
  return {
    debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'),
    child: (bindings) => runtimeLogger(logger.child(bindings)),
  }
}
