import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import type { ChannelMessage } from '../connector-api/index.js'

const SEGMENT_BYTES = 16 * 1024 * 1024

/**
 * An action's on-disk queue, so queued messages survive a restart of Junction. Messages are
 * appended (one JSON line each, written before the message is accepted) to segment files; the
 * lowest sequence not yet settled is saved as the watermark. After a restart everything from the
 * watermark on is delivered again: at least once, so a message settled out of order just before a
 * crash may arrive twice. Writes reach the OS at once (they survive the process being killed),
 * but are not fsync'ed: a power loss may lose the last moments.
 */
export class DiskBuffer {
  private fd: number | undefined
  private segmentStart = 0
  private segmentBytes = 0
  private nextSeq = 0
  private watermark = 0
  private readonly settledAbove = new Set<number>()
  private saveTimer: NodeJS.Timeout | undefined
  /** First sequence of each segment file, oldest first. */
  private readonly segments: number[] = []
  private closed = false

  private constructor(private readonly dir: string) {}

  /** Opens (creating) the buffer and returns the messages still pending from a previous run. */
  static open(dir: string): { buffer: DiskBuffer; pending: Array<{ seq: number; message: ChannelMessage }> } {
    mkdirSync(dir, { recursive: true })
    const b = new DiskBuffer(dir)
    const ackFile = join(dir, 'watermark')
    b.watermark = existsSync(ackFile) ? Number(readFileSync(ackFile, 'utf8').trim()) || 0 : 0
    const pending: Array<{ seq: number; message: ChannelMessage }> = []
    const starts = readdirSync(dir).filter((f) => /^seg-\d+\.log$/.test(f)).map((f) => Number(f.slice(4, -4))).sort((x, y) => x - y)
    let next = b.watermark
    for (const start of starts) {
      b.segments.push(start)
      const lines = readFileSync(join(dir, segmentName(start)), 'utf8').split('\n')
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!
        if (line === '') continue
        const seq = start + i
        next = Math.max(next, seq + 1)
        if (seq < b.watermark) continue
        try {
          pending.push({ seq, message: JSON.parse(line) as ChannelMessage })
        } catch {
          // A line cut short by a crash mid-write: the message was never accepted.
        }
      }
    }
    b.nextSeq = next
    b.dropSettledSegments()
    b.startSegment(next)
    return { buffer: b, pending }
  }

  /** Writes a message; returns its sequence number, to settle it later. */
  append(message: ChannelMessage): number {
    if (this.segmentBytes >= SEGMENT_BYTES) this.startSegment(this.nextSeq)
    // Each segment holds consecutive sequences, one per line, so the line number is the sequence.
    const line = JSON.stringify(message) + '\n'
    this.segmentBytes += writeSync(this.fd!, line)
    return this.nextSeq++
  }

  /** The message left the queue for good (delivered, failed or dropped). */
  settle(seq: number): void {
    if (this.closed) return
    if (seq === this.watermark) {
      this.watermark++
      while (this.settledAbove.delete(this.watermark)) this.watermark++
      this.scheduleSave()
    } else if (seq > this.watermark) {
      this.settledAbove.add(seq)
    }
  }

  /** Saves the watermark and closes; later settles are ignored (another owner may open the dir). */
  close(): void {
    if (this.closed) return
    clearTimeout(this.saveTimer)
    this.saveWatermark()
    this.closed = true
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }

  /** Removes the buffer from disk (the action was deleted). */
  destroy(): void {
    this.close()
    rmSync(this.dir, { recursive: true, force: true })
  }

  get pendingCount(): number {
    return this.nextSeq - this.watermark - this.settledAbove.size
  }

  private startSegment(start: number): void {
    if (this.fd !== undefined) closeSync(this.fd)
    const file = join(this.dir, segmentName(start))
    this.fd = openSync(file, 'a')
    this.segmentStart = start
    this.segmentBytes = existsSync(file) ? statSync(file).size : 0
    if (this.segments.at(-1) !== start) this.segments.push(start)
  }

  private scheduleSave(): void {
    if (this.saveTimer) return
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined
      if (this.closed) return
      this.saveWatermark()
      this.dropSettledSegments()
    }, 100)
    this.saveTimer.unref()
  }

  private saveWatermark(): void {
    const tmp = join(this.dir, 'watermark.tmp')
    writeFileSync(tmp, String(this.watermark))
    renameSync(tmp, join(this.dir, 'watermark'))
  }

  /** Deletes segments whose every message is below the watermark. */
  private dropSettledSegments(): void {
    while (this.segments.length > 1 && this.segments[1]! <= this.watermark && this.segments[0] !== this.segmentStart) {
      const start = this.segments.shift()!
      rmSync(join(this.dir, segmentName(start)), { force: true })
    }
  }
}

function segmentName(start: number): string {
  return `seg-${String(start).padStart(16, '0')}.log`
}
