// Resident memory of a process and everything it started, read from /proc: the figure an
// out-of-memory killer or a container limit sees, whatever allocator (V8, the engine's
// jemalloc) holds it.
import { readFileSync, readdirSync } from 'node:fs';

export interface RssSample {
  readonly at: number;
  /** VmRSS: everything resident, the engine library's mapped code included. */
  readonly bytes: number;
  /** RssAnon: what the processes allocated, without mapped files. */
  readonly anonBytes: number;
}

const kB = (status: string, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? 0) * 1024;

function rss(pid: number): [number, number] {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return [kB(status, 'VmRSS'), kB(status, 'RssAnon')];
  } catch {
    return [0, 0]; // exited between the listing and the read
  }
}

/** `root` and its descendants, from the parent pid of every process. */
function tree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses; fields resume after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // gone already
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}

/** Samples the summed VmRSS of `pid`'s process tree every `everyMs` until stopped. */
export function sampleTreeRss(pid: number, everyMs = 100): { stop(): RssSample[] } {
  const samples: RssSample[] = [];
  const take = () => {
    let bytes = 0;
    let anonBytes = 0;
    for (const p of tree(pid)) {
      const [all, anon] = rss(p);
      bytes += all;
      anonBytes += anon;
    }
    if (bytes > 0) samples.push({ at: Date.now(), bytes, anonBytes });
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

/** The largest sample taken in [from, to], or 0 when none was. */
export function peakBetween(samples: readonly RssSample[], from: number, to: number, key: 'bytes' | 'anonBytes' = 'bytes'): number {
  let peak = 0;
  for (const s of samples) if (s.at >= from && s.at <= to && s[key] > peak) peak = s[key];
  return peak;
}
