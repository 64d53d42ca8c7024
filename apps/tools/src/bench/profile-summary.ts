import { readFileSync } from 'node:fs';
import { ROOT } from '../local-services';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

export interface ProfileSummary {
  file: string;
  /** Milliseconds of samples (idle included). */
  totalMs: number;
  /** Share of non-idle samples. */
  busyPercent: number;
  /** Functions by self time, as a share of the busy samples. */
  topFunctions: { fn: string; where: string; selfPercent: number }[];
  /** Self time by package (node_modules/<pkg>), app or lib, or node internals. */
  byOrigin: { origin: string; selfPercent: number }[];
}

const IDLE = new Set(['(idle)', '(program)', '(garbage collector)']);

function origin(url: string): string {
  if (!url) return '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:')) return 'node core';
  const app = /\/(apps|libs)\/([^/]+)\//.exec(url);
  if (app) return `${app[1]}/${app[2]}`;
  return 'other';
}

/** Summarises a .cpuprofile (the `node --cpu-prof` format): top functions and packages by self time. */
export function summariseProfile(file: string, top = 20): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const hits = new Map<number, number>();
  if (p.samples) for (const id of p.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  else for (const n of p.nodes) hits.set(n.id, n.hitCount ?? 0);
  const total = [...hits.values()].reduce((a, b) => a + b, 0) || 1;
  const byFn = new Map<string, { fn: string; where: string; hits: number }>();
  const byOrigin = new Map<string, number>();
  let idle = 0;
  for (const n of p.nodes) {
    const h = hits.get(n.id) ?? 0;
    if (!h) continue;
    const name = n.callFrame.functionName || '(anonymous)';
    if (name === '(idle)' || name === '(program)') {
      idle += h;
      continue;
    }
    const where = n.callFrame.url ? `${n.callFrame.url.replace(`file://${ROOT}/`, '').replace(`${ROOT}/`, '')}:${n.callFrame.lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const cur = byFn.get(key) ?? { fn: name, where, hits: 0 };
    cur.hits += h;
    byFn.set(key, cur);
    const o = IDLE.has(name) ? name : origin(n.callFrame.url);
    byOrigin.set(o, (byOrigin.get(o) ?? 0) + h);
  }
  const busy = total - idle || 1;
  const pct = (h: number) => Math.round((h / busy) * 1000) / 10;
  return {
    file,
    totalMs: (p.endTime - p.startTime) / 1000,
    busyPercent: Math.round(((total - idle) / total) * 1000) / 10,
    topFunctions: [...byFn.values()]
      .sort((a, b) => b.hits - a.hits)
      .slice(0, top)
      .map((f) => ({ fn: f.fn, where: f.where, selfPercent: pct(f.hits) })),
    byOrigin: [...byOrigin.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([o, h]) => ({ origin: o, selfPercent: pct(h) })),
  };
}

export function profileText(label: string, s: ProfileSummary): string {
  const lines = [`${label}: ${s.busyPercent}% busy over ${Math.round(s.totalMs)} ms (${s.file})`, '  self time by origin:'];
  for (const o of s.byOrigin.slice(0, 10)) lines.push(`    ${o.selfPercent.toFixed(1).padStart(5)}%  ${o.origin}`);
  lines.push('  top functions (self):');
  for (const f of s.topFunctions.slice(0, 15)) lines.push(`    ${f.selfPercent.toFixed(1).padStart(5)}%  ${f.fn}  ${f.where}`);
  return lines.join('\n');
}
