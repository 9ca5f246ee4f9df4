import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ChannelMessage, ConnectorError, ConnectorLogger } from '../connector-api/index.js'
import type { DropReason } from './metrics.js'

/** Why a message left its action without being delivered: a permanent error, or a drop. */
export type FailureReason = 'failed' | DropReason

/** What the action knew when the message left it. */
export interface FailureDetail {
  /** Sends of the message tried (0: it never reached the resource). */
  readonly attempts: number
  /** The error that failed it for good (reason `failed`). */
  readonly error?: ConnectorError
}

export interface FailedMessagesLimits {
  /** Most messages kept; beyond it the oldest go (counted as evicted). */
  readonly maxMessages: number
  /** Most message bytes (JSON characters) kept; beyond it the oldest go. */
  readonly maxBytes: number
}

export const DEFAULT_FAILED_LIMITS: FailedMessagesLimits = { maxMessages: 10_000, maxBytes: 16 * 1024 * 1024 }

/** One kept message as the API shows it (`message` only when asked for one). */
export interface FailedMessageView {
  readonly id: string
  readonly at: string
  readonly reason: FailureReason
  readonly code: string | null
  readonly error: string | null
  readonly attempts: number
  readonly bytes: number
}

export interface FailedMessagesStats {
  readonly stored: number
  readonly bytes: number
  readonly evicted: number
  readonly maxMessages: number
  readonly maxBytes: number
}

/** A worker that takes replayed messages: an action's ActionWorker. */
export interface ReplayTarget {
  enqueue(message: ChannelMessage): void
}

interface Rec {
  readonly seq: number
  /** Epoch milliseconds: an ISO string per failure cost as much as the rest of keeping it. */
  readonly at: number
  readonly reason: FailureReason
  readonly code: string | null
  readonly error: string | null
  readonly attempts: number
  /** The message as JSON: what the bound counts and what replay parses. */
  readonly json: string
}

/** Lines of the log: an add, a delete, the evicted counter. One JSON object per line. */
type LogLine =
  | { a: number; t: number; r: FailureReason; c: string | null; e: string | null; n: number; m: unknown }
  | { d: number[] }
  | { x: number; next?: number }

const FLUSH_DELAY_MS = 20
/** Most entries per write. */
const MAX_BATCH = 2048
/** Dead bytes in the log (deleted messages, delete lines) beyond this much more than the live ones start a compaction. */
const COMPACT_SLACK = 4 * 1024 * 1024
const EXCERPT_CHARS = 200

/**
 * The messages one action finally failed or dropped, kept so a user can look at them, replay
 * them through the action or discard them. Bounded in messages and bytes (the oldest go first,
 * counted), held in memory and in an append-only log on disk so they survive a restart.
 *
 * Writes are batched: whatever happened within 20 ms goes to the log in one write, so a burst of
 * failures costs one write per 20 ms, never one per message; a message added and removed within
 * the same 20 ms never reaches the disk. When the log holds more dead than live data it is
 * rewritten (asynchronously, a snapshot of the live messages into the next generation's file,
 * swapped in atomically). As the disk buffer: the writes reach the OS but are not fsync'ed, and a
 * crash (kill -9) loses at most the last 20 ms.
 */
export class FailedMessageStore {
  private readonly live = new Map<number, Rec>()
  /** Sequences in order of arrival (deleted ones skipped lazily): paging and eviction walk it. */
  private order: number[] = []
  private head = 0
  private liveBytes = 0
  private nextSeq = 1
  private evicted = 0
  private limits: FailedMessagesLimits = DEFAULT_FAILED_LIMITS

  private generation = 0
  private fd: number | undefined
  private diskBytes = 0
  private pending: Array<Rec | number[]> = []
  /** Adds still only in `pending`: deleting one of them needs no delete line. */
  private readonly unflushed = new Set<number>()
  private evictedWritten = 0
  private flushTimer: NodeJS.Timeout | undefined
  /** A compaction under way: the lines written since its snapshot go to its file too. */
  private compaction: { lines: string[]; aborted: boolean } | undefined
  private closed = false
  private destroyed = false
  private writeFailed = false
  /** Attempts of messages replayed from here, by identity: a replayed message that fails again keeps counting. */
  private readonly replayed = new WeakMap<object, number>()

  private constructor(private readonly dir: string, private readonly logger: ConnectorLogger) {}

  /** Opens (creating) the store in `dir`, reading back what a previous run kept. */
  static open(dir: string, logger: ConnectorLogger, limits: FailedMessagesLimits = DEFAULT_FAILED_LIMITS): FailedMessageStore {
    mkdirSync(dir, { recursive: true })
    const s = new FailedMessageStore(dir, logger)
    const files = readdirSync(dir)
    const generations = files.filter((f) => /^log-\d+\.jsonl$/.test(f)).map((f) => Number(f.slice(4, -6))).sort((x, y) => x - y)
    s.generation = generations.at(-1) ?? 0
    // Older generations (a compaction that stopped before removing them) and unfinished snapshots go.
    for (const f of files) if ((f.startsWith('log-') && f !== logName(s.generation)) || f.endsWith('.tmp')) rmSync(join(dir, f), { force: true })
    const file = join(dir, logName(s.generation))
    if (existsSync(file)) {
      const text = readFileSync(file, 'utf8')
      s.diskBytes = text.length
      for (const line of text.split('\n')) if (line !== '') s.replayLine(line)
      s.evictedWritten = s.evicted
    }
    s.limits = limits
    s.enforceBound()
    return s
  }

  /** Changes the bound (an edit of the action); a lower one evicts the oldest at once. */
  setLimits(limits: FailedMessagesLimits): void {
    this.limits = limits
    this.enforceBound()
  }

  /** Keeps a message the action failed or dropped. */
  add(message: ChannelMessage, reason: FailureReason, detail: FailureDetail): void {
    if (this.destroyed) return
    let json: string
    try {
      json = JSON.stringify(message) ?? 'null'
    } catch {
      // A value JSON cannot hold (a cycle, a bigint): keep what can be said about it.
      json = JSON.stringify({ unserializable: String(message) })
    }
    const rec: Rec = {
      seq: this.nextSeq++, at: Date.now(), reason,
      code: detail.error?.code ?? null, error: detail.error?.message ?? null,
      attempts: (this.replayed.get(message) ?? 0) + detail.attempts, json,
    }
    this.insert(rec)
    this.pending.push(rec)
    this.unflushed.add(rec.seq)
    this.enforceBound()
    // A burst is written in slices, so no single write holds the event loop for long.
    if (this.pending.length >= MAX_BATCH) this.writeNow()
    else this.scheduleFlush()
  }

  stats(): FailedMessagesStats {
    return { stored: this.live.size, bytes: this.liveBytes, evicted: this.evicted, ...this.limits }
  }

  /** Oldest first, `limit` of them after the message `after` (an id from a previous page). */
  list(limit: number, after?: string): { data: Array<FailedMessageView & { excerpt: string }>; next: string | null } {
    const from = after === undefined ? this.head : firstAbove(this.order, Number(after), this.head)
    const data: Array<FailedMessageView & { excerpt: string }> = []
    let i = from
    for (; i < this.order.length && data.length < limit; i++) {
      const r = this.live.get(this.order[i]!)
      if (r) data.push({ ...view(r), excerpt: r.json.length > EXCERPT_CHARS ? `${r.json.slice(0, EXCERPT_CHARS)}…` : r.json })
    }
    while (i < this.order.length && !this.live.has(this.order[i]!)) i++
    return { data, next: i < this.order.length && data.length > 0 ? data.at(-1)!.id : null }
  }

  /** One message with its content, or undefined. */
  get(id: string): (FailedMessageView & { message: unknown }) | undefined {
    const r = this.live.get(seqOf(id))
    return r && { ...view(r), message: JSON.parse(r.json) as unknown }
  }

  /**
   * Hands the messages (`ids`, or all) to `target` in their order and removes them from the
   * store; one that fails again comes back as a new entry with its attempts counted on.
   */
  replay(target: ReplayTarget, ids?: readonly string[]): { replayed: number; notFound: string[] } {
    const { found, notFound } = this.pick(ids)
    this.remove(found.map((r) => r.seq))
    this.writeNow()
    for (const r of found) {
      const message = JSON.parse(r.json) as ChannelMessage
      if (typeof message === 'object' && message !== null) this.replayed.set(message, r.attempts)
      target.enqueue(message)
    }
    return { replayed: found.length, notFound }
  }

  /** Removes the messages (`ids`, or all). */
  discard(ids?: readonly string[]): { discarded: number; notFound: string[] } {
    const { found, notFound } = this.pick(ids)
    this.remove(found.map((r) => r.seq))
    this.writeNow()
    return { discarded: found.length, notFound }
  }

  /** Writes what is pending now (synchronously) and closes the file; later adds are written at once. */
  close(): void {
    clearTimeout(this.flushTimer)
    this.flushTimer = undefined
    if (this.compaction) this.compaction.aborted = true
    this.flush()
    this.closed = true
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }

  /** Removes the store from disk (its rule was deleted). */
  destroy(): void {
    this.destroyed = true
    this.pending = []
    this.unflushed.clear()
    this.evictedWritten = this.evicted
    this.close()
    rmSync(this.dir, { recursive: true, force: true })
  }

  private pick(ids: readonly string[] | undefined): { found: Rec[]; notFound: string[] } {
    if (ids === undefined) return { found: this.order.slice(this.head).flatMap((s) => this.live.get(s) ?? []), notFound: [] }
    const found: Rec[] = []
    const notFound: string[] = []
    for (const id of new Set(ids)) {
      const r = this.live.get(seqOf(id))
      if (r) found.push(r)
      else notFound.push(id)
    }
    return { found: found.sort((x, y) => x.seq - y.seq), notFound }
  }

  private insert(r: Rec): void {
    this.live.set(r.seq, r)
    this.order.push(r.seq)
    this.liveBytes += r.json.length
  }

  /** Deletes from memory; a delete line is written for those already on disk. */
  private remove(seqs: readonly number[]): void {
    const written: number[] = []
    for (const seq of seqs) {
      const r = this.live.get(seq)
      if (!r) continue
      this.live.delete(seq)
      this.liveBytes -= r.json.length
      if (!this.unflushed.delete(seq)) written.push(seq)
    }
    this.advanceHead()
    if (written.length > 0) {
      // One delete line per batch, however many went (an eviction per failure in a burst).
      const last = this.pending.at(-1)
      if (Array.isArray(last)) for (const seq of written) last.push(seq)
      else this.pending.push(written)
    }
    if (seqs.length > 0) this.scheduleFlush()
  }

  private enforceBound(): void {
    const evict: number[] = []
    let n = this.live.size
    let bytes = this.liveBytes
    // At least the newest stays, however large: a store that keeps nothing would hide the failure.
    for (let i = this.head; i < this.order.length && n > 1 && (n > this.limits.maxMessages || bytes > this.limits.maxBytes); i++) {
      const r = this.live.get(this.order[i]!)
      if (!r) continue
      evict.push(r.seq)
      n--
      bytes -= r.json.length
    }
    if (evict.length === 0) return
    this.evicted += evict.length
    this.remove(evict)
  }

  private advanceHead(): void {
    while (this.head < this.order.length && !this.live.has(this.order[this.head]!)) this.head++
    // The walked-over part is dropped now and then, not per delete (that would be O(n) each).
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head)
      this.head = 0
    }
    if (this.order.length - this.head > 4 * this.live.size + 1024) {
      this.order = this.order.slice(this.head).filter((s) => this.live.has(s))
      this.head = 0
    }
  }

  private replayLine(line: string): void {
    let l: LogLine
    try {
      l = JSON.parse(line) as LogLine
    } catch {
      return // A line cut short by a crash mid-write.
    }
    if ('a' in l) {
      if (this.live.has(l.a)) return
      this.insert({ seq: l.a, at: l.t, reason: l.r, code: l.c, error: l.e, attempts: l.n, json: JSON.stringify(l.m) ?? 'null' })
      this.nextSeq = Math.max(this.nextSeq, l.a + 1)
    } else if ('d' in l) {
      for (const seq of l.d) {
        const r = this.live.get(seq)
        if (!r) continue
        this.live.delete(seq)
        this.liveBytes -= r.json.length
      }
      this.advanceHead()
    } else if ('x' in l) {
      this.evicted = l.x
      if (l.next !== undefined) this.nextSeq = Math.max(this.nextSeq, l.next)
    }
  }

  private scheduleFlush(): void {
    if (this.closed) {
      this.flush()
      return
    }
    if (this.flushTimer) return
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined
      this.flush()
      if (this.needsCompaction()) void this.compact()
    }, FLUSH_DELAY_MS)
    this.flushTimer.unref()
  }

  /** A user's replay or discard is on disk when the API answers (they are rare; failures are not). */
  private writeNow(): void {
    clearTimeout(this.flushTimer)
    this.flushTimer = undefined
    this.flush()
    if (this.needsCompaction()) void this.compact()
  }

  /** One write of everything pending. */
  private flush(): void {
    if (this.pending.length === 0 && this.evicted === this.evictedWritten) return
    const lines: string[] = []
    for (const p of this.pending) {
      if (Array.isArray(p)) lines.push(`{"d":[${p.join(',')}]}\n`)
      else if (this.live.get(p.seq) === p) lines.push(addLine(p))
    }
    if (this.evicted !== this.evictedWritten) lines.push(`{"x":${this.evicted}}\n`)
    const chunk = lines.join('')
    try {
      if (this.fd === undefined) {
        mkdirSync(this.dir, { recursive: true })
        this.fd = openSync(join(this.dir, logName(this.generation)), 'a')
      }
      writeSync(this.fd, chunk)
    } catch (err) {
      // The messages stay in memory (and are tried again at the next write); say so once.
      if (!this.writeFailed) this.logger.warn(`failed-message store ${this.dir}: cannot write: ${(err as Error).message}`)
      this.writeFailed = true
      if (!this.closed) this.scheduleLater()
      return
    }
    this.writeFailed = false
    this.pending = []
    this.unflushed.clear()
    this.evictedWritten = this.evicted
    this.diskBytes += chunk.length
    this.compaction?.lines.push(chunk)
    if (this.closed) {
      closeSync(this.fd)
      this.fd = undefined
    }
  }

  private scheduleLater(): void {
    if (this.flushTimer) return
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined
      this.flush()
    }, 1000)
    this.flushTimer.unref()
  }

  private needsCompaction(): boolean {
    return !this.compaction && !this.closed && this.diskBytes > 2 * this.liveBytes + COMPACT_SLACK
  }

  /**
   * Writes the live messages to the next generation's file off the event loop; lines written to
   * the current file meanwhile are appended to it before it replaces the current one.
   */
  private async compact(): Promise<void> {
    const c = { lines: [] as string[], aborted: false }
    this.compaction = c
    let snapshot = `${JSON.stringify({ x: this.evicted, next: this.nextSeq })}\n`
    for (let i = this.head; i < this.order.length; i++) {
      const r = this.live.get(this.order[i]!)
      if (r && !this.unflushed.has(r.seq)) snapshot += addLine(r)
    }
    const next = this.generation + 1
    const tmp = join(this.dir, `${logName(next)}.tmp`)
    try {
      await writeFile(tmp, snapshot)
      if (c.aborted) throw new Error('closed')
      // Synchronous from here: no write may come between the catch-up and the swap.
      const rest = c.lines.join('')
      if (rest.length > 0) {
        const fd = openSync(tmp, 'a')
        try {
          writeSync(fd, rest)
        } finally {
          closeSync(fd)
        }
      }
      renameSync(tmp, join(this.dir, logName(next)))
      if (this.fd !== undefined) closeSync(this.fd)
      this.fd = undefined
      rmSync(join(this.dir, logName(this.generation)), { force: true })
      this.generation = next
      this.diskBytes = snapshot.length + rest.length
    } catch (err) {
      rmSync(tmp, { force: true })
      if (!c.aborted) this.logger.warn(`failed-message store ${this.dir}: compaction failed: ${(err as Error).message}`)
    } finally {
      if (this.compaction === c) this.compaction = undefined
    }
  }
}

/**
 * The failed-message stores of one deployment's actions, by action ID. A store outlives the
 * workers of one version of its rule (an edit keeps it; old and new workers write to the same
 * one) and is read by the API while the rule does not run.
 */
export class FailedMessageStores {
  private readonly open = new Map<string, FailedMessageStore>()

  constructor(private readonly dirOf: (actionId: string) => string, private readonly logger: ConnectorLogger) {}

  /** The action's store, opened or created, with this bound. */
  use(actionId: string, limits: FailedMessagesLimits): FailedMessageStore {
    let s = this.open.get(actionId)
    if (s) s.setLimits(limits)
    else this.open.set(actionId, (s = FailedMessageStore.open(this.dirOf(actionId), this.logger, limits)))
    return s
  }

  /**
   * The action's store if it is open or exists on disk (kept earlier); undefined if it never kept
   * anything. `limits` (the action's, as stored) apply when it has to be opened.
   */
  find(actionId: string, limits: FailedMessagesLimits): FailedMessageStore | undefined {
    const s = this.open.get(actionId)
    if (s) return s
    if (!existsSync(this.dirOf(actionId))) return undefined
    return this.use(actionId, limits)
  }

  /** The action's store while open (metrics: no disk access). */
  peek(actionId: string): FailedMessageStore | undefined {
    return this.open.get(actionId)
  }

  /** Deployment stop: everything written, files closed (the API opens them again on demand). */
  closeAll(): void {
    for (const s of this.open.values()) s.close()
    this.open.clear()
  }

  /** The rule was deleted: its actions' stores go. */
  removeRule(ruleId: string, actions: number): void {
    for (let i = 0; i < actions; i++) {
      const id = `${ruleId}#${i}`
      this.open.get(id)?.destroy()
      this.open.delete(id)
      rmSync(this.dirOf(id), { recursive: true, force: true })
    }
  }
}

/** The limits an action's options ask for. */
export function failedLimits(options: { keepFailedMaxMessages?: number; keepFailedMaxBytes?: number }): FailedMessagesLimits {
  return {
    maxMessages: options.keepFailedMaxMessages ?? DEFAULT_FAILED_LIMITS.maxMessages,
    maxBytes: options.keepFailedMaxBytes ?? DEFAULT_FAILED_LIMITS.maxBytes,
  }
}

function view(r: Rec): FailedMessageView {
  return { id: String(r.seq), at: new Date(r.at).toISOString(), reason: r.reason, code: r.code, error: r.error, attempts: r.attempts, bytes: r.json.length }
}

function addLine(r: Rec): string {
  return `{"a":${r.seq},"t":${r.at},"r":${JSON.stringify(r.reason)},"c":${JSON.stringify(r.code)},"e":${JSON.stringify(r.error)},"n":${r.attempts},"m":${r.json}}\n`
}

function logName(generation: number): string {
  return `log-${String(generation).padStart(10, '0')}.jsonl`
}

/** A message ID is its sequence number; anything else names no message. */
function seqOf(id: string): number {
  return /^[0-9]{1,15}$/.test(id) ? Number(id) : -1
}

/** Index of the first sequence above `seq` in the ascending `order`, from `from` on. */
export function firstAbove(order: readonly number[], seq: number, from = 0): number {
  let lo = from
  let hi = order.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (order[mid]! <= seq) lo = mid + 1
    else hi = mid
  }
  return lo
}
