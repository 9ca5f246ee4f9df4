import { EDIT_NEEDS_PLAN } from '../lib/deployment-context.tsx'

/**
 * Written on the page (not only in a disabled button's hover title, which touch and keyboard users
 * never see): why the Edit buttons of a serverless deployment do nothing.
 */
export function ServerlessNotice() {
  return (
    <p className="alert alert-info notice-plan" role="note">
      <strong>Serverless plan:</strong> {EDIT_NEEDS_PLAN.charAt(0).toLowerCase() + EDIT_NEEDS_PLAN.slice(1)}. On serverless, connectors can be created, tested and deleted, not edited.
    </p>
  )
}
