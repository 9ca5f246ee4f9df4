import { useEffect, useRef, useState } from 'react'

export interface ChartSeries {
  label: string
  /** A CSS colour (a custom property works: `var(--ok)`). */
  color: string
  /** Oldest first, one point per second. */
  values: number[]
}

const H = 200
const PAD = { left: 44, right: 12, top: 12, bottom: 26 }

/** A top for the y axis that splits into 4 round steps (1, 2 or 5 times a power of ten). */
function niceMax(v: number): number {
  const raw = Math.max(v, 1) / 4
  const p = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p
  return Math.max(1, step >= 1 ? Math.ceil(step) : step) * 4
}

function fmt(v: number): string {
  if (v >= 1000) return `${(v / 1000).toFixed(v >= 10000 ? 0 : 1)}k`
  return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(2)))
}

/** A line chart of per-second rates over the last minute, drawn as inline SVG (no chart library). */
export function RateChart({ caption, series }: { caption: string; series: ChartSeries[] }) {
  // Drawn at the figure's real width, so text is never stretched with the picture.
  const figure = useRef<HTMLElement>(null)
  const [W, setWidth] = useState(640)
  useEffect(() => {
    const el = figure.current
    if (!el) return
    const observer = new ResizeObserver(([entry]) => {
      const w = Math.round(entry?.contentRect.width ?? 0)
      if (w > 100) setWidth(w)
    })
    observer.observe(el)
    return () => observer.disconnect()
  }, [])
  const points = Math.max(2, ...series.map((s) => s.values.length))
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)))
  const iw = W - PAD.left - PAD.right
  const ih = H - PAD.top - PAD.bottom
  const x = (i: number) => PAD.left + (i / (points - 1)) * iw
  const y = (v: number) => PAD.top + ih - (v / max) * ih
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * max)
  const empty = series.every((s) => s.values.every((v) => v === 0))
  const latest = series.map((s) => `${s.label} ${fmt(s.values[s.values.length - 1] ?? 0)}/s`).join(', ')

  return (
    <figure className="chart" ref={figure}>
      {empty ? (
        // A flat line on a made-up 0-4 axis reads as a measurement; nothing has been measured yet.
        <div className="chart-empty" role="img" aria-label={`${caption}. No traffic yet.`}>
          <p>No traffic yet</p>
          <p className="muted small">The chart starts when messages flow.</p>
        </div>
      ) : (
      <svg viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label={`${caption}. Now: ${latest}.`}>
        {ticks.map((t) => (
          <g key={t}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} className="chart-grid" />
            <text x={PAD.left - 6} y={y(t) + 4} textAnchor="end" className="chart-tick">
              {fmt(t)}
            </text>
          </g>
        ))}
        {[0, 0.5, 1].map((f) => (
          <text key={f} x={PAD.left + f * iw} y={H - 6} textAnchor={f === 0 ? 'start' : f === 1 ? 'end' : 'middle'} className="chart-tick">
            {f === 1 ? 'now' : `-${Math.round((1 - f) * points)}s`}
          </text>
        ))}
        {series.map((s, k) => {
          const vals = s.values.length > 0 ? s.values : [0]
          const offset = points - vals.length
          const d = vals.map((v, i) => `${i === 0 ? 'M' : 'L'}${x(i + offset).toFixed(1)},${y(v).toFixed(1)}`).join(' ')
          const { width, dash, opacity } = lineStyle(k)
          return (
            <path
              key={s.label}
              d={d}
              fill="none"
              stroke={s.color}
              strokeWidth={width}
              strokeDasharray={dash}
              strokeOpacity={opacity}
              vectorEffect="non-scaling-stroke"
              strokeLinejoin="round"
              data-series={s.label}
            />
          )
        })}
      </svg>
      )}
      <figcaption>
        <span className="chart-caption">{caption}</span>
        <span className="chart-legend">
          {series.map((s, k) => (
            <span key={s.label} className="legend-item">
              <svg width="18" height="8" aria-hidden="true" className="legend-line">
                <line x1="1" x2="17" y1="4" y2="4" stroke={s.color} strokeWidth={Math.min(3, lineStyle(k).width)} strokeDasharray={lineStyle(k).dash} strokeOpacity={lineStyle(k).opacity} />
              </svg>
              {s.label}
            </span>
          ))}
        </span>
      </figcaption>
    </figure>
  )
}

/** Later series are drawn thinner and dashed, so one lying on another leaves both visible. */
function lineStyle(k: number): { width: number; dash: string | undefined; opacity: number } {
  return { width: Math.max(1.5, 4 - k * 1.25), dash: k === 0 ? undefined : k === 1 ? '7 4' : '2 4', opacity: k === 0 ? 0.55 : 1 }
}
