import type { ConnectorContext, ConnectorDefinition, ProbeResult } from '../connector-api/index.js'
import { errorMessage } from '../connector-api/index.js'

/**
 * Runs a connector's Test with a hard deadline. The connector gets an AbortSignal, but the deadline
 * holds even if it ignores the signal, and a connector that throws (a bug: probe must not) still
 * answers with a result.
 */
export async function runProbe(definition: ConnectorDefinition, config: Record<string, unknown>, ctx: ConnectorContext, timeoutMs: number): Promise<ProbeResult> {
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<ProbeResult>((resolve) => {
    timer = setTimeout(() => {
      controller.abort()
      resolve({
        ok: false,
        error: { code: 'TIMEOUT', message: `The test did not finish within ${timeoutMs} ms`, hint: 'Check that the server is reachable from Junction; a firewall that drops packets looks like this.' },
        steps: [],
      })
    }, timeoutMs)
  })
  try {
    // A create that throws (a value the schema let through but the type cannot use) answers like a probe that throws.
    const attempt = (async () => definition.create(config, ctx).probe(controller.signal))().catch((err: unknown): ProbeResult => ({
      ok: false,
      error: { code: 'CONNECTION_FAILED', message: errorMessage(err), hint: 'Check the connector configuration.' },
      steps: [],
    }))
    return await Promise.race([attempt, deadline])
  } finally {
    clearTimeout(timer)
  }
}

/** The Test's deadline: three start timeouts, within 5 to 60 seconds. */
export function probeTimeoutMs(config: Record<string, unknown>): number {
  const start = (config.resource as { startTimeoutMs?: number } | undefined)?.startTimeoutMs ?? 5000
  return Math.min(60_000, Math.max(5_000, start * 3))
}
