/**
 * Samples other processes from outside, through Linux's `/proc`: CPU time and RSS of a
 * server (it may stall its own event loop, so it cannot be trusted to sample itself), and
 * the kernel's TCP counters (listen-queue overflows). The parsers are pure and tested.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

export interface ProcSample {
  /** Wall-clock ms. */
  at: number;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
  rssBytes: number;
}

/** utime + stime (clock ticks) from the text of `/proc/<pid>/stat`. */
export function parseCpuTicks(stat: string): number {
  // The command name (field 2) is in parentheses and may hold spaces: count after its end.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error("unreadable stat");
  return utime + stime;
}

/** Resident pages (field 2) from the text of `/proc/<pid>/statm`. */
export function parseRssPages(statm: string): number {
  const pages = Number(statm.split(" ")[1]);
  if (!Number.isFinite(pages)) throw new Error("unreadable statm");
  return pages;
}

/** `/proc/net/netstat` (or `/proc/net/snmp`) as { "TcpExt": { "ListenOverflows": n, … }, … }. */
export function parseNetstat(text: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  const lines = text.split("\n").filter((line) => line.includes(":"));
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const [group, ...names] = (lines[i] as string).split(/\s+/).filter(Boolean);
    const [again, ...values] = (lines[i + 1] as string).split(/\s+/).filter(Boolean);
    if (!group || group !== again) continue;
    const counters: Record<string, number> = {};
    names.forEach((name, j) => {
      counters[name] = Number(values[j]);
    });
    out[group.replace(/:$/, "")] = counters;
  }
  return out;
}

export interface ListenCounters {
  /** SYNs or handshakes dropped because an accept queue was full. */
  overflows: number;
  /** Every SYN dropped by a listener (overflows included). */
  drops: number;
  /** SYNs the clients had to send again (a dropped SYN costs 1 s, then 2, 4, …). */
  synRetransmits: number;
}

/** The kernel's listen-queue counters so far (this network namespace, every socket). */
export function listenCounters(): ListenCounters {
  const tcp = parseNetstat(readFileSync("/proc/net/netstat", "utf8")).TcpExt ?? {};
  return {
    overflows: tcp.ListenOverflows ?? 0,
    drops: tcp.ListenDrops ?? 0,
    synRetransmits: tcp.TCPSynRetrans ?? 0,
  };
}

/**
 * The highest CPU use over any `windowMs` of `samples` (at least two), in % of one core:
 * 100 = one core busy for the whole window.
 */
export function peakCpuPercent(samples: readonly ProcSample[], windowMs: number, hz: number) {
  let peak = 0;
  let start = 0;
  for (let end = 1; end < samples.length; end++) {
    const last = samples[end] as ProcSample;
    while (start < end - 1 && last.at - (samples[start + 1] as ProcSample).at >= windowMs) start++;
    const first = samples[start] as ProcSample;
    const elapsed = last.at - first.at;
    if (elapsed < windowMs) continue;
    peak = Math.max(peak, (((last.cpuTicks - first.cpuTicks) / hz) * 1000 * 100) / elapsed);
  }
  return peak;
}

function sysconf(name: string, fallback: number): number {
  try {
    const value = Number(execFileSync("getconf", [name]).toString().trim());
    return Number.isFinite(value) && value > 0 ? value : fallback;
  } catch {
    return fallback;
  }
}

/** Samples one process every `everyMs` until stopped (or the process is gone). */
export class ProcSampler {
  readonly samples: ProcSample[] = [];
  readonly hz = sysconf("CLK_TCK", 100);
  readonly #pageBytes = sysconf("PAGESIZE", 4096);
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(
    readonly pid: number,
    everyMs = 50,
    maxSamples = 100_000,
  ) {
    this.#take();
    this.#timer = setInterval(() => {
      if (this.samples.length >= maxSamples || !this.#take()) this.stop();
    }, everyMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Samples taken between `from` and `to` (wall-clock ms). */
  between(from: number, to: number): ProcSample[] {
    return this.samples.filter((s) => s.at >= from && s.at <= to);
  }

  #take(): boolean {
    try {
      const cpuTicks = parseCpuTicks(readFileSync(`/proc/${this.pid}/stat`, "utf8"));
      const rss = parseRssPages(readFileSync(`/proc/${this.pid}/statm`, "utf8"));
      const at = performance.timeOrigin + performance.now();
      this.samples.push({ at, cpuTicks, rssBytes: rss * this.#pageBytes });
      return true;
    } catch {
      return false;
    }
  }
}
