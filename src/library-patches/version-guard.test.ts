import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LibraryPatchError, checkVersion, installedVersion, warnUnpatched, type LibraryPin } from './version-guard.js'

const pin: LibraryPin = { library: 'ws', version: '0.0.1', touches: 'nothing (a test pin)', file: 'test.ts' }

describe('library patch version guard', () => {
  it('reads the installed version from the package\'s own package.json, also behind an exports map (pg)', () => {
    assert.match(installedVersion('pg') ?? '', /^\d+\.\d+\.\d+$/)
    assert.equal(installedVersion('no-such-package-junction'), undefined)
  })

  it('checkVersion accepts only the exact release', () => {
    assert.doesNotThrow(() => checkVersion(pin, '0.0.1'))
    for (const found of ['0.0.2', '0.0.1-rc.1', undefined]) assert.throws(() => checkVersion(pin, found), LibraryPatchError)
  })

  it('warnUnpatched warns once per library, with the reason and the consequence', async () => {
    const warnings: Error[] = []
    const onWarning = (w: Error) => warnings.push(w)
    process.on('warning', onWarning)
    try {
      const err = new LibraryPatchError(pin, '9.9.9', 'the version differs')
      warnUnpatched(err, 'Runs without the patch.')
      warnUnpatched(err, 'Runs without the patch.')
      await new Promise((resolve) => setImmediate(resolve))
      const ours = warnings.filter((w) => (w as Error & { code?: string }).code === 'JUNCTION_LIBRARY_PATCH')
      assert.equal(ours.length, 1)
      assert.match(ours[0]!.message, /ws 0\.0\.1 exactly, found ws 9\.9\.9: the version differs\. .* Runs without the patch\.$/)
    } finally {
      process.off('warning', onWarning)
    }
  })
})
