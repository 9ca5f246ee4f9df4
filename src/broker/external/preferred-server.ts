/**
 * Which of a deployment's `servers` a Junction node attaches to first, and goes back to after a
 * failover: a stable choice from the node's name, so that the nodes of an installation spread
 * over a cluster's broker nodes instead of all taking the first. A broker node then always has a
 * consumer of the shared subscription while it is up, and what it holds when it comes back is
 * delivered by the Junction node that returns to it (Artemis, for one, keeps a shared
 * subscription's messages on the node that received them; docs/cluster.md).
 *
 * A name ending in a number N (`node-3`, `junction-12`) gets server N-1 (modulo the count), so
 * nodes numbered 1..k spread over k servers exactly; any other name a hash of it.
 */
export function preferredServer(nodeName: string, count: number): number {
  if (count <= 1) return 0
  const digits = /(\d+)$/.exec(nodeName)
  if (digits) {
    // Only the last digits that fit a safe integer matter for the modulo's stability.
    const n = Number(digits[1]!.slice(-15))
    return (((n - 1) % count) + count) % count
  }
  // FNV-1a: stable across processes and versions (unlike anything seeded).
  let h = 0x811c9dc5
  for (let i = 0; i < nodeName.length; i++) {
    h ^= nodeName.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h % count
}
