import { useEffect, type ReactElement } from 'react'
import { ErrorAlert } from '../components/Alert.tsx'
import { useResource, type Resource } from './use-resource.ts'

/** Live enough to follow status changes without reloading the page. */
const REFRESH_MS = 2000

export interface Details<T> extends Resource<T> {
  /** What the page shows instead of itself until the first answer: the loading line or the error. */
  placeholder: ReactElement
  /** A failed refresh (the page keeps the last good data); null while refreshes succeed. */
  refreshError: ReactElement | null
}

/**
 * The entity of a details page (`noun`: "connector", "rule"), refreshed every few seconds; the tab
 * is titled "{name} · {section} · Junction" once it has loaded.
 */
export function useDetails<T extends { name: string }>(load: () => Promise<T>, key: string, noun: string, section: string): Details<T> {
  const resource = useResource(load, key, REFRESH_MS)
  const { data, error } = resource

  useEffect(() => {
    if (data) document.title = `${data.name} · ${section} · Junction`
  }, [data?.name])

  const placeholder = error ? <ErrorAlert error={error} title={`Could not load the ${noun}`} /> : <p className="loading">{`Loading the ${noun}…`}</p>
  const refreshError = error ? <ErrorAlert error={error} title={`Could not refresh the ${noun}`} /> : null
  return { ...resource, placeholder, refreshError }
}
