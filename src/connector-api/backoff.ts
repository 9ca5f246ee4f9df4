/**
 * Delay before reconnect attempt `attempt` (0-based): 1 s, 2 s, 4 s ... capped at `capMs`, with
 * ±20 % jitter so that many connectors to one server do not retry in lockstep.
 */
export function reconnectDelayMs(attempt: number, capMs: number, random: () => number = Math.random): number {
  const base = Math.min(1000 * 2 ** Math.min(attempt, 20), capMs)
  return Math.max(100, Math.round(base * (0.8 + 0.4 * random())))
}
