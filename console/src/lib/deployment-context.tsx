import { createContext, useContext, type ReactNode } from 'react'
import { api } from '../api/client.ts'
import type { Deployment } from '../api/types.ts'
import { useResource, type Resource } from './use-resource.ts'

const DeploymentContext = createContext<Resource<Deployment> | null>(null)

/** The deployment the current page is in, refreshed every few seconds (status, plan, MQTT address). */
export function DeploymentProvider({ dep, children }: { dep: string; children: ReactNode }) {
  const resource = useResource(() => api.deployment(dep), `deployment:${dep}`, 3000)
  return <DeploymentContext.Provider value={resource}>{children}</DeploymentContext.Provider>
}

export function useDeployment(): Resource<Deployment> {
  const r = useContext(DeploymentContext)
  if (!r) throw new Error('useDeployment() outside a DeploymentProvider')
  return r
}

export const EDIT_NEEDS_PLAN = 'Editing connectors needs a dedicated or premium deployment'

/** The current deployment when the page is inside one (for the layout). */
export function useDeploymentOptional(): Resource<Deployment> | null {
  return useContext(DeploymentContext)
}
