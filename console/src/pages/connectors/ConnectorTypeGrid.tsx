import type { ConnectorType } from '../../api/types.ts'
import { TypeIcon } from '../../components/TypeIcon.tsx'
import { href, navigate } from '../../lib/router.ts'

/** "Choose a resource to connect": one card per connector type, named by its title. */
export function ConnectorTypeGrid({ dep, types, onClose }: { dep: string; types: ConnectorType[]; onClose?: () => void }) {
  return (
    <section className="type-picker" aria-labelledby="type-picker-title">
      <div className="section-head">
        <h2 id="type-picker-title">Choose a resource to connect</h2>
        {onClose && (
          <button type="button" className="button ghost" onClick={onClose}>
            Close
          </button>
        )}
      </div>
      <p className="muted">A connector is one tested connection from this deployment to an external resource; rules then send data through it.</p>
      <ul className="type-grid">
        {types.map((t) => (
          <li key={t.type}>
            <button
              type="button"
              className="type-card"
              aria-label={t.title}
              aria-describedby={`type-summary-${t.type}`}
              onClick={() => navigate(href.newConnector(dep, t.type))}
            >
              <TypeIcon type={t.type} title={t.title} />
              <span className="type-card-text">
                <span className="type-card-title">{t.title}</span>
                <span className="type-card-summary" id={`type-summary-${t.type}`} title={t.summary}>
                  {t.summary}
                </span>
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  )
}
