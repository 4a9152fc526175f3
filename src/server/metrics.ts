/**
 * `health_update` data from real OS/process metrics, without blocking the event loop:
 * CPU from `os.cpus()` deltas, memory from `os.totalmem/freemem`, disk from
 * `fs.promises.statfs`, process count from an async readdir of `/proc`.
 * Concurrent callers share one collection; results are cached briefly.
 */
import { readdir, statfs } from 'node:fs/promises';
import os from 'node:os';
import type { EventDataMap } from '../protocol/index.js';

export type HealthData = EventDataMap['health_update'];

interface CpuSample {
  idle: number;
  total: number;
}

function sampleCpu(): CpuSample {
  let idle = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const t = cpu.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}

const round1 = (n: number) => Math.round(n * 10) / 10;

export class Metrics {
  #cpu: CpuSample = sampleCpu();
  #cached: { at: number; value: HealthData } | undefined;
  #pending: Promise<HealthData> | undefined;
  readonly #cacheMs: number;

  /** @param cacheMs how long a result is reused. @default 1000 */
  constructor(cacheMs = 1000) {
    this.#cacheMs = cacheMs;
  }

  /** Current health figures. Never rejects (a figure that cannot be read is 0). */
  health(): Promise<HealthData> {
    const c = this.#cached;
    if (c && Date.now() - c.at < this.#cacheMs) return Promise.resolve(c.value);
    return (this.#pending ??= this.#collect().finally(() => (this.#pending = undefined)));
  }

  async #collect(): Promise<HealthData> {
    const [disk, procs] = await Promise.all([diskPercent(), processCount()]);
    const value: HealthData = {
      cpu_percent: this.#cpuPercent(),
      memory_percent: round1((1 - os.freemem() / os.totalmem()) * 100),
      disk_percent: disk,
      process_count: procs,
    };
    this.#cached = { at: Date.now(), value };
    return value;
  }

  #cpuPercent(): number {
    const now = sampleCpu();
    const dTotal = now.total - this.#cpu.total;
    const dIdle = now.idle - this.#cpu.idle;
    this.#cpu = now;
    if (dTotal <= 0) return 0;
    return round1(Math.min(100, Math.max(0, (1 - dIdle / dTotal) * 100)));
  }
}

async function diskPercent(): Promise<number> {
  try {
    const s = await statfs('/');
    if (s.blocks === 0) return 0;
    return round1((1 - s.bavail / s.blocks) * 100);
  } catch {
    return 0;
  }
}

async function processCount(): Promise<number> {
  try {
    const entries = await readdir('/proc');
    let n = 0;
    for (const e of entries) if (e.charCodeAt(0) >= 48 && e.charCodeAt(0) <= 57) n++;
    return n;
  } catch {
    return 0;
  }
}
