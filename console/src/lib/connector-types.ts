import { api } from '../api/client.ts'
import type { ConnectorType } from '../api/types.ts'
import { useResource, type Resource } from './use-resource.ts'

let cached: Promise<ConnectorType[]> | null = null

/** Connector types change only with a new Junction version: fetch them once per page load. */
export function loadConnectorTypes(): Promise<ConnectorType[]> {
  if (!cached) {
    cached = api.connectorTypes().then((r) => r.data)
    cached.catch(() => {
      cached = null
    })
  }
  return cached
}

export function useConnectorTypes(): Resource<ConnectorType[]> {
  return useResource(loadConnectorTypes, 'connector-types')
}

export function typeTitle(types: ConnectorType[] | undefined, type: string): string {
  return types?.find((t) => t.type === type)?.title ?? type
}
