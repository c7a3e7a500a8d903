/**
 * Scratch installs made of PHYSICAL copies of installed packages (fs.cpSync:
 * new files, new inodes). pnpm hardlinks identical files, so every ffi-rs in
 * node_modules is one inode, and glibc's dlopen, which recognises a loaded
 * library by device and inode, maps it once: a second copy of ffi-rs in one
 * process only happens with distinct files, as when an app installs
 * net-keepalive with its own ffi-rs. Each function returns the directory's
 * path; the caller removes it (rmSync, recursive).
 */
import { cpSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { scratchDir } from './host.js'

const TEST_DIR = fileURLToPath(new URL('../../', import.meta.url))
const NO_BINARY = fileURLToPath(new URL('../packaging/no-binary.mjs', import.meta.url))

/** The real directory of `name` as `fromDir` (a package's directory) resolves it. */
function packageDir(fromDir: string, name: string): string {
  return realpathSync(dirname(createRequire(join(fromDir, 'package.json')).resolve(`${name}/package.json`)))
}

/**
 * ffi-rs's native binary packages installed beside `ffiDir` (its optional dependencies that resolve: this platform's).
 */
function binaryPackages(ffiDir: string): { name: string; dir: string }[] {
  const manifest = JSON.parse(readFileSync(join(ffiDir, 'package.json'), 'utf8')) as {
    optionalDependencies?: Record<string, string>
  }
  return Object.keys(manifest.optionalDependencies ?? {}).flatMap((name) => {
    try {
      return [{ name, dir: packageDir(ffiDir, name) }]
    } catch {
      return []
    }
  })
}

/**
 * Copies ffi-rs (from `ffiDir`) and its binary package into `nodeModules` (as `as`); returns the copied .node files.
 */
function copyFfi(ffiDir: string, nodeModules: string, as = 'ffi-rs'): string[] {
  cpSync(ffiDir, join(nodeModules, as), { recursive: true, dereference: true })
  // The binary package goes into the copy's own node_modules: it resolves there first.
  return binaryPackages(ffiDir).map(({ name, dir }) => {
    const dest = join(nodeModules, as, 'node_modules', name)
    cpSync(dir, dest, { recursive: true, dereference: true })
    return join(dest, mainOf(dir))
  })
}

export interface FfiCopies {
  dir: string
  /** The .node files of the copies, and the core's own (which no copy may share an inode with). */
  binaries: { keepalive: string[]; previous: string[]; core: string }
}

/**
 * node_modules/net-keepalive (4.0.28) with its own node_modules/ffi-rs (1.3.7)
 * and binary package, and node_modules/ffi-rs-previous (ffi-rs 1.3.6) with
 * its binary package: both as the test package installed them, copied.
 */
export function ffiCopies(): FfiCopies {
  const dir = scratchDir('tut-ffi-copies-')
  const nodeModules = join(dir, 'node_modules')
  const keepaliveDir = packageDir(TEST_DIR, 'net-keepalive')
  cpSync(keepaliveDir, join(nodeModules, 'net-keepalive'), { recursive: true, dereference: true })
  const keepalive = copyFfi(packageDir(keepaliveDir, 'ffi-rs'), join(nodeModules, 'net-keepalive', 'node_modules'))
  const previous = copyFfi(packageDir(TEST_DIR, 'ffi-rs-previous'), nodeModules, 'ffi-rs-previous')
  return { dir, binaries: { keepalive, previous, core: coreBinary() } }
}

/** The .node file the core's own ffi-rs loads on this platform. */
export function coreBinary(): string {
  const { dir } = binaryPackages(packageDir(packageDir(TEST_DIR, '@tcp-user-timeout/core'), 'ffi-rs'))[0]
  return join(dir, mainOf(dir))
}

function mainOf(dir: string): string {
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { main: string }).main
}

/** The inode of a file: distinct inodes are distinct libraries to dlopen. */
export function inode(file: string): number {
  return statSync(file).ino
}

/**
 * A project where the core is installed (its package.json and dist, copied)
 * and ffi-rs is not, with packaging/no-binary.mjs beside it (the script of the
 * --omit=optional test, reused): `node no-binary.mjs` there is an app whose
 * core cannot resolve ffi-rs at all.
 */
export function coreWithoutFfi(): string {
  const dir = scratchDir('tut-no-ffi-')
  const core = packageDir(TEST_DIR, '@tcp-user-timeout/core')
  const dest = join(dir, 'node_modules', '@tcp-user-timeout', 'core')
  cpSync(join(core, 'package.json'), join(dest, 'package.json'))
  cpSync(join(core, 'dist'), join(dest, 'dist'), { recursive: true })
  cpSync(NO_BINARY, join(dir, 'no-binary.mjs'))
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'tut-no-ffi-app', private: true, type: 'module' }))
  return dir
}
