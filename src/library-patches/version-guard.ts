/**
 * What every library patch shares: the exact version it was written against, how to read the
 * version that is installed, and the error (or the one-time warning) when the two differ.
 *
 * This folder imports nothing of Junction's: anything may import a patch, and a patch depends
 * only on Node and the library it patches.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

const requireHere = createRequire(import.meta.url)

/** A patched library: the release the patch was checked against and what the patch reaches into. */
export interface LibraryPin {
  /** The npm package name. */
  readonly library: string
  /** The exact release (package.json pins it without a range). */
  readonly version: string
  /** The internals the patch reads or replaces, for the error message. */
  readonly touches: string
  /** The patch's file in src/library-patches/. */
  readonly file: string
}

/** A patch met a library other than the one it was written against. */
export class LibraryPatchError extends Error {
  constructor(
    readonly pin: LibraryPin,
    /** The installed version; undefined when the package could not be found. */
    readonly found: string | undefined,
    /** What differs: the version, or which internal is missing. */
    readonly problem: string,
  ) {
    super(
      `Library patch ${pin.file} was written for ${pin.library} ${pin.version} exactly, found ${pin.library} ${found ?? '(not installed)'}: ${problem}. ` +
      `It reaches into ${pin.touches}. Run \`npm ci\` to install the pinned version; when upgrading ${pin.library} on purpose, ` +
      `re-check the patch against the new release and change the pin in both package.json and src/library-patches/${pin.file}.`,
    )
    this.name = 'LibraryPatchError'
  }
}

/**
 * The version of `library` as `from` (a file path or URL; default: Junction's own modules)
 * resolves it, read from the package's own package.json. Found by walking up from the resolved
 * entry point, because packages with an `exports` map (pg) do not let `pkg/package.json` resolve.
 */
export function installedVersion(library: string, from?: string): string | undefined {
  const req = from === undefined ? requireHere : createRequire(from)
  let entry: string
  try {
    entry = req.resolve(library)
  } catch {
    return undefined
  }
  for (let dir = dirname(entry); ; dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown }
      if (manifest.name === library) return typeof manifest.version === 'string' ? manifest.version : undefined
    } catch { /* no package.json here (or not JSON): keep walking up */ }
    if (dirname(dir) === dir) return undefined
  }
}

/** Throws a LibraryPatchError unless `found` is the pinned version. */
export function checkVersion(pin: LibraryPin, found: string | undefined): void {
  if (found !== pin.version) throw new LibraryPatchError(pin, found, found === undefined ? 'the package was not found' : 'the version differs')
}

const warned = new Set<string>()

/**
 * For a patch that can do without: says once per library and thread (a process warning, on
 * stderr) that the library runs unpatched, and why.
 */
export function warnUnpatched(err: LibraryPatchError, consequence: string): void {
  if (warned.has(err.pin.library)) return
  warned.add(err.pin.library)
  process.emitWarning(`${err.message} ${consequence}`, { code: 'JUNCTION_LIBRARY_PATCH' })
}
