import { useEffect, useRef, useState } from 'react'

/** One reading of counters that only grow while their source runs (a broker's messages since start). */
export interface CounterReading<K extends string> {
  /** When it was read, in ms (performance.now()). */
  at: number
  values: Record<K, number>
}

/** Per-second series, oldest first, at most `points` long. */
export type RateSeries<K extends string> = Record<K, number[]>

/**
 * Adds the rates between two readings to `series`. The API gives counters, not rates: the rate is
 * the growth over the time between the readings, repeated once per second of that interval so
 * the series keeps RateChart's one point per second whatever the polling period. A counter that
 * went down means its source restarted: the interval tells nothing, so it adds nothing.
 */
export function addRates<K extends string>(series: RateSeries<K>, prev: CounterReading<K>, next: CounterReading<K>, points = 60): RateSeries<K> {
  const seconds = (next.at - prev.at) / 1000
  if (!(seconds > 0)) return series
  const keys = Object.keys(next.values) as K[]
  if (keys.some((k) => next.values[k] < prev.values[k])) return series
  const repeat = Math.min(points, Math.max(1, Math.round(seconds)))
  const out = {} as RateSeries<K>
  for (const k of keys) {
    const rate = (next.values[k] - prev.values[k]) / seconds
    out[k] = [...(series[k] ?? []), ...Array.from({ length: repeat }, () => rate)].slice(-points)
  }
  return out
}

/**
 * Rates per second of counters read again and again (`values` changes identity on every poll);
 * null `values` (the source stopped) forgets the history.
 */
export function useCounterRates<K extends string>(values: Record<K, number> | null | undefined, keys: readonly K[]): RateSeries<K> {
  const empty = () => Object.fromEntries(keys.map((k) => [k, []])) as unknown as RateSeries<K>
  const [series, setSeries] = useState<RateSeries<K>>(empty)
  const prev = useRef<CounterReading<K> | null>(null)
  useEffect(() => {
    if (!values) {
      prev.current = null
      setSeries(empty())
      return
    }
    const next = { at: performance.now(), values }
    const before = prev.current
    prev.current = next
    if (before) setSeries((s) => addRates(s, before, next))
  }, [values])
  return series
}
