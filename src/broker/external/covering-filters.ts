/**
 * The filters to subscribe so that each topic of `filters` is covered, without a filter another
 * one already covers (`t/a` under `t/#`): a broker sends a message once per matching
 * subscription, so overlapping ones would run the rules twice. Filters that only partly overlap
 * (`a/+/c`, `a/b/+`) are both kept: see docs/external-broker.md.
 */
export function coveringFilters(filters: readonly string[]): string[] {
  const unique = [...new Set(filters)].sort()
  return unique.filter((f) => !unique.some((other) => other !== f && covers(other, f)))
}

/** Whether every topic `inner` matches also matches `outer`. */
export function covers(outer: string, inner: string): boolean {
  const o = outer.split('/')
  const i = inner.split('/')
  for (let k = 0; k < o.length; k++) {
    const level = o[k]!
    // `#` also matches the parent level (`a/#` matches `a`), never a `$` topic from the first level.
    if (level === '#') return !(k === 0 && (i[0] ?? '').startsWith('$'))
    if (k >= i.length) return false
    const other = i[k]!
    if (other === '#') return false
    if (level === '+') {
      // Wildcards do not match topics starting with `$` at the first level.
      if (k === 0 && other.startsWith('$')) return false
      continue
    }
    if (level !== other) return false
  }
  return o.length === i.length
}
