import { pino, type Logger } from 'pino'
import type { RuntimeLogger } from './runtime/deployment-runtime.js'

/**
 * The process logger. Redaction is a second line of defence: config and secrets are never passed
 * to it in the first place.
 */
export function createLogger(level: string, format: 'json' | 'text' = process.stdout.isTTY ? 'text' : 'json'): Logger {
  const options = {
    level,
    base: undefined,
    redact: { paths: ['req.headers.authorization', '*.password', '*.secret', '*.apiSecret', '*.clientKey', 'config'], censor: '******' },
  }
  return format === 'json' ? pino(options) : pino(options, textStream(process.stdout))
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' }

/** `12:00:01.234 INFO  message key=value`: for people at a terminal; JSON stays the default elsewhere. */
function textStream(out: NodeJS.WritableStream): { write(line: string): void } {
  return {
    write(line: string) {
      const { level, time, msg, err, ...rest } = JSON.parse(line) as Record<string, unknown>
      const extra = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ')
      const stack = (err as { stack?: string } | undefined)?.stack
      const t = new Date(time as number).toISOString().slice(11, 23)
      out.write(`${t} ${LEVELS[level as number] ?? String(level)} ${String(msg ?? '')}${extra ? `  ${extra}` : ''}${stack ? `\n${stack}` : ''}\n`)
    },
  }
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
