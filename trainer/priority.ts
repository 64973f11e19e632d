/**
 * CPU priority of a trainer process. Training is batch work and serving is not: on a machine that
 * runs both (the embedded default, a small server), a job should take the cores the API leaves idle
 * rather than half of them. On a GPU node it changes nothing that matters.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';

export interface PriorityResult {
  /** The nice value asked for. */
  nice: number;
  /** Whether the process's own nice value was set. */
  process: boolean;
  /**
   * Whether its Linux autogroup was set too. With autogroups (most desktop and server kernels), the
   * scheduler shares the CPU between sessions first, and a process's nice only ranks it inside its
   * session; a trainer started as its own session (a service, a container) sets its session's.
   */
  autogroup: boolean;
}

/** Lowers this process's CPU priority to `nice` (0 leaves it); never throws. */
export function lowerCpuPriority(nice: number): PriorityResult {
  const result: PriorityResult = { nice, process: false, autogroup: false };
  if (nice <= 0) return result;
  try {
    setPriority(nice);
    result.process = true;
  } catch {
    // Not permitted here: run at the inherited priority.
  }
  try {
    // /proc/self/stat: "pid (comm) state ppid pgrp session …"; comm may hold spaces and parentheses.
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const session = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
    // Only a session leader's autogroup is its own: another's would slow whatever shares the session.
    if (session === process.pid && existsSync('/proc/self/autogroup')) {
      writeFileSync('/proc/self/autogroup', String(nice));
      result.autogroup = true;
    }
  } catch {
    // No procfs or no autogroups.
  }
  return result;
}
