import { href } from '../lib/router.ts'

export function NotFoundPage({ path }: { path: string }) {
  return (
    <div className="empty-state">
      <h1>Page not found</h1>
      <p>
        Nothing lives at <code>{path || '/'}</code>. <a href={href.deployments()}>Go to the deployments list</a>.
      </p>
    </div>
  )
}
