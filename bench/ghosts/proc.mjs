// What the kernel accounts to a process, read from outside so that measuring
// costs the measured process nothing.
import { readFileSync, readdirSync } from 'node:fs'
import { execFileSync } from 'node:child_process'

let clkTck
function ticksPerSecond() {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 }).trim()) || 100
    } catch {
      clkTck = 100 // USER_HZ on every mainstream Linux build.
    }
  }
  return clkTck
}

function ctxSwitches(path) {
  const text = readFileSync(path, 'utf8')
  const v = Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(text)?.[1] ?? NaN)
  const nv = Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(text)?.[1] ?? NaN)
  return { voluntary: v, nonvoluntary: nv }
}

/**
 * CPU (utime + stime of all threads, /proc/<pid>/stat, in ticks of 1/CLK_TCK s),
 * context switches of the main thread — the event loop's: a voluntary one is
 * an epoll_wait that blocked, i.e. one sleep/wakeup — and of all threads
 * (V8's GC and compiler helpers too), and the main thread's on-CPU ns
 * (schedstat), which is finer than ticks.
 */
export function snapshot(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // Fields 14 and 15 of proc(5); the slice starts at field 3.
  const ticks = Number(fields[11]) + Number(fields[12])
  const main = ctxSwitches(`/proc/${pid}/status`)
  const all = { voluntary: 0, nonvoluntary: 0 }
  let threads = 0
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const c = ctxSwitches(`/proc/${pid}/task/${tid}/status`)
      all.voluntary += c.voluntary
      all.nonvoluntary += c.nonvoluntary
      threads++
    } catch {
      // The thread ended between readdir and read; its switches leave the sum
      // (the kernel folds them nowhere visible), a negligible undercount.
    }
  }
  const mainRunNs = Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0])
  return { at: performance.now(), cpuSeconds: ticks / ticksPerSecond(), main, all, threads, mainRunNs }
}

export function delta(before, after) {
  return {
    seconds: (after.at - before.at) / 1000,
    cpuSeconds: round(after.cpuSeconds - before.cpuSeconds, 3),
    mainCtxVoluntary: after.main.voluntary - before.main.voluntary,
    mainCtxNonvoluntary: after.main.nonvoluntary - before.main.nonvoluntary,
    allCtxVoluntary: after.all.voluntary - before.all.voluntary,
    allCtxNonvoluntary: after.all.nonvoluntary - before.all.nonvoluntary,
    mainOnCpuSeconds: round((after.mainRunNs - before.mainRunNs) / 1e9, 4),
    threads: after.threads,
  }
}

export function round(x, digits) {
  const f = 10 ** digits
  return Math.round(x * f) / f
}
