import { useCallback, useEffect, useRef, useState } from 'react'
import { ApiError } from '../api/client.ts'

export interface Resource<T> {
  data: T | undefined
  error: ApiError | Error | undefined
  loading: boolean
  /** Fetch again now (after a change the user made). */
  reload: () => Promise<void>
  /** Replace the data locally (e.g. with the answer of a PUT). */
  set: (data: T) => void
}

/**
 * Loads `load()` on mount and when `key` changes; with `pollMs`, again every `pollMs` after the
 * previous answer (never overlapping). A failed poll keeps the last data and shows the error.
 */
export function useResource<T>(load: () => Promise<T>, key: string, pollMs?: number): Resource<T> {
  const [data, setData] = useState<T | undefined>(undefined)
  const [error, setError] = useState<ApiError | Error | undefined>(undefined)
  const [loading, setLoading] = useState(true)
  const loadRef = useRef(load)
  loadRef.current = load
  const generation = useRef(0)

  const fetchOnce = useCallback(async (gen: number) => {
    try {
      const d = await loadRef.current()
      if (gen !== generation.current) return
      setData(d)
      setError(undefined)
    } catch (e) {
      if (gen !== generation.current) return
      setError(e instanceof Error ? e : new Error(String(e)))
    } finally {
      if (gen === generation.current) setLoading(false)
    }
  }, [])

  useEffect(() => {
    const gen = ++generation.current
    setData(undefined)
    setError(undefined)
    setLoading(true)
    let timer: number | undefined
    let stopped = false
    const tick = async () => {
      await fetchOnce(gen)
      if (stopped || !pollMs) return
      timer = window.setTimeout(tick, pollMs)
    }
    void tick()
    return () => {
      stopped = true
      if (timer !== undefined) window.clearTimeout(timer)
      generation.current++
    }
  }, [key, pollMs, fetchOnce])

  const reload = useCallback(() => fetchOnce(generation.current), [fetchOnce])
  const set = useCallback((d: T) => setData(d), [])
  return { data, error, loading, reload, set }
}
