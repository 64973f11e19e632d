/**
 * Preloaded into the server by `npm run bench:training --probe` (node --import): once a second it
 * appends one JSON line to $IONSIEVE_PROBE_FILE with what the serving thread went through in that
 * second — event-loop delay (perf_hooks.monitorEventLoopDelay, 10 ms resolution: p50/p99/max ms),
 * GC pauses (count, total and longest ms, by kind) and the process's CPU time (user+system ms).
 * The bench lines these up with the job's phases. Measurement only: nothing in the server reads it.
 */
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

const file = process.env.IONSIEVE_PROBE_FILE;
if (file) {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let gc = { count: 0, totalMs: 0, maxMs: 0, major: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.count++;
      gc.totalMs += entry.duration;
      gc.maxMs = Math.max(gc.maxMs, entry.duration);
      // NODE_PERFORMANCE_GC_MAJOR = 4 (mark-sweep-compact)
      if (entry.detail?.kind === 4) gc.major++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  let cpu = process.cpuUsage();
  const ms = (ns) => Math.round(ns / 1e5) / 10;
  const timer = setInterval(() => {
    const used = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    const line = {
      t: Date.now(),
      loopP50: ms(delay.percentile(50)),
      loopP99: ms(delay.percentile(99)),
      loopMax: ms(delay.max),
      gcCount: gc.count,
      gcMs: Math.round(gc.totalMs * 10) / 10,
      gcMaxMs: Math.round(gc.maxMs * 10) / 10,
      gcMajor: gc.major,
      cpuMs: Math.round((used.user + used.system) / 1000),
    };
    delay.reset();
    gc = { count: 0, totalMs: 0, maxMs: 0, major: 0 };
    try {
      appendFileSync(file, JSON.stringify(line) + '\n');
    } catch {
      // the bench removed its folder: stop quietly
      clearInterval(timer);
    }
  }, 1000);
  timer.unref();
}
