/**
 * How much CPU this process may use, in cores: the cores it may run on (os.availableParallelism), or less where a
 * cgroup's CPU quota gives it less (a container's --cpus, systemd's CPUQuota, a CI runner's limit). Node 20's
 * availableParallelism counts the cores and not the quota: under a quota of one core's worth on two cores it says 2,
 * while CPU work runs one request's worth at a time. Linux's cgroup v2 (cpu.max) and v1 (cpu.cfs_quota_us and
 * cpu.cfs_period_us), the smallest quota on the way from this process's cgroup to the root; elsewhere the cores.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export function cpuBudget(): number {
  const cores = availableParallelism();
  let cgroups: string;
  try {
    cgroups = readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    return cores;
  }
  let budget = cores;
  for (const line of cgroups.split('\n')) {
    const [, controllers, path] = line.split(':');
    if (path === undefined) continue;
    const v2 = controllers === '';
    if (!v2 && !controllers!.split(',').includes('cpu')) continue;
    for (let dir = path; ; dir = dir.slice(0, dir.lastIndexOf('/')) || '/') {
      const quota = v2 ? quotaV2(`/sys/fs/cgroup${dir}`) : quotaV1(`/sys/fs/cgroup/cpu${dir}`);
      if (quota !== null) budget = Math.min(budget, quota);
      if (dir === '/') break;
    }
  }
  return budget;
}

/** cgroup v2: cpu.max is "QUOTA PERIOD", or "max PERIOD" without a quota. */
function quotaV2(dir: string): number | null {
  const [quota, period] = read(`${dir}/cpu.max`)?.split(' ') ?? [];
  return quota === undefined || quota === 'max' ? null : Number(quota) / Number(period);
}

/** cgroup v1: cpu.cfs_quota_us is -1 without a quota. */
function quotaV1(dir: string): number | null {
  const quota = Number(read(`${dir}/cpu.cfs_quota_us`));
  const period = Number(read(`${dir}/cpu.cfs_period_us`));
  return quota > 0 && period > 0 ? quota / period : null;
}

function read(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}
