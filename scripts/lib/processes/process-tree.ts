/**
 * The memory of a server that is several processes (a cluster's primary and workers, uvicorn's supervisor and
 * workers): the resident set of a process and all its descendants, from /proc, the same way for both; and the CPU
 * time a process has had.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';

/** PIDs of `pid` and everything below it; only `pid` where there is no /proc. */
export function processTree(pid: number): number[] {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    try {
      for (const task of readdirSync(`/proc/${tree[i]}/task`)) {
        const children = readFileSync(`/proc/${tree[i]}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
        tree.push(...children);
      }
    } catch {
      // gone, or no /proc: what we have is what there is
    }
  }
  return tree;
}

/** The summed resident set (VmRSS) of `pid` and its descendants, in bytes, and how many processes; null without /proc. */
export function treeRss(pid: number): { processes: number; rssBytes: number } | null {
  let rssBytes = 0;
  let processes = 0;
  for (const p of processTree(pid)) {
    try {
      const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1];
      if (kb === undefined) continue;
      rssBytes += Number(kb) * 1024;
      processes++;
    } catch {
      // exited meanwhile
    }
  }
  return processes > 0 ? { processes, rssBytes } : null;
}

/** Alive and not a zombie waiting to be reaped (Linux: /proc; elsewhere, whether it can be signalled). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    if (existsSync('/proc/self')) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * The CPU time `pid` has had so far, all its threads together, ms (Linux: each thread's run time from
 * /proc/<pid>/task/<tid>/schedstat, to the ns); null without /proc. Threads that already ended are not counted.
 */
export function cpuMs(pid: number): number | null {
  const threads = threadCpuMs(pid);
  return threads === null ? null : [...threads.values()].reduce((sum, ms) => sum + ms, 0);
}

/** The CPU time each thread of `pid` has had so far, ms, by thread id; null without /proc. */
export function threadCpuMs(pid: number): Map<number, number> | null {
  const threads = new Map<number, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        threads.set(Number(tid), Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6);
      } catch {
        // the thread ended meanwhile
      }
    }
  } catch {
    return null;
  }
  return threads;
}
