import { useLayoutEffect, useRef, type ReactNode } from 'react'
import { tokenize } from '../lib/sql-highlight.ts'

/** Offset of 1-based `line`/`column` in `text`. */
function offsetOf(text: string, line: number, column: number): number {
  let off = 0
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', off)
    if (nl < 0) return text.length
    off = nl + 1
  }
  return Math.min(text.length, off + Math.max(0, column - 1))
}

/** Highlighted spans for `sql`; the character at `mark` (an error position) gets a wavy underline. */
export function highlight(sql: string, mark?: number): ReactNode[] {
  const out: ReactNode[] = []
  let off = 0
  tokenize(sql).forEach((t, i) => {
    const cls = t.kind === 'space' || t.kind === 'identifier' || t.kind === 'other' ? undefined : `tok-${t.kind}`
    const end = off + t.text.length
    if (mark !== undefined && mark >= off && mark < end) {
      const at = mark - off
      out.push(
        <span key={i} className={cls}>
          {t.text.slice(0, at)}
          <span className="sql-error-mark">{t.text.charAt(at)}</span>
          {t.text.slice(at + 1)}
        </span>,
      )
    } else {
      out.push(cls ? <span key={i} className={cls}>{t.text}</span> : t.text)
    }
    off = end
  })
  if (mark !== undefined && mark >= sql.length) out.push(<span key="eof" className="sql-error-mark"> </span>)
  return out
}

export interface SqlEditorProps {
  id: string
  value: string
  onChange: (v: string) => void
  invalid?: boolean
  describedBy?: string
  /** Where the SQL error is (from INVALID_SQL), to underline it. */
  errorAt?: { line: number; column: number }
  rows?: number
  placeholder?: string
}

/** A plain textarea over a highlighted copy of its text (keywords, strings, numbers, functions). */
export function SqlEditor({ id, value, onChange, invalid, describedBy, errorAt, rows = 7, placeholder }: SqlEditorProps) {
  const pre = useRef<HTMLPreElement>(null)
  const area = useRef<HTMLTextAreaElement>(null)
  // Grow with the text instead of scrolling, so the highlighted copy underneath always lines up.
  useLayoutEffect(() => {
    const el = area.current
    if (!el) return
    el.style.height = 'auto'
    el.style.height = `${el.scrollHeight + 2}px`
  }, [value])
  const mark = errorAt ? offsetOf(value, errorAt.line, errorAt.column) : undefined
  return (
    <div className={`sql-editor${invalid ? ' is-invalid' : ''}`}>
      <pre ref={pre} className="sql-highlight" aria-hidden="true">
        <code>
          {highlight(value, mark)}
          {'\n'}
        </code>
      </pre>
      <textarea
        ref={area}
        id={id}
        className="sql-input"
        value={value}
        rows={rows}
        spellCheck={false}
        autoCapitalize="off"
        autoComplete="off"
        autoCorrect="off"
        placeholder={placeholder}
        aria-invalid={invalid ? true : undefined}
        aria-describedby={describedBy}
        onChange={(e) => onChange(e.target.value)}
        onScroll={(e) => {
          if (pre.current) {
            pre.current.scrollTop = e.currentTarget.scrollTop
            pre.current.scrollLeft = e.currentTarget.scrollLeft
          }
        }}
      />
    </div>
  )
}

/** Read-only highlighted SQL. */
export function SqlView({ sql }: { sql: string }) {
  return (
    <pre className="sql-view">
      <code>{highlight(sql)}</code>
    </pre>
  )
}
