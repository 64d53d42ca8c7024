import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { targetText, type BenchReport, type BenchRow } from './bench-result';
import { round } from './stats';

function fmt(n: number | null, unit = ''): string {
  if (n === null || !Number.isFinite(n)) return '—';
  const v = Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : String(round(n, 3));
  return unit ? `${v} ${unit}` : v;
}

/** The table as Markdown (stdout and docs/performance.md). */
export function markdownTable(rows: readonly BenchRow[]): string {
  const lines = ['| measurement | value | baseline | ratio | target | met |', '| --- | ---: | ---: | ---: | --- | --- |'];
  for (const r of rows) {
    const baseline = r.baseline === null ? '—' : `${fmt(r.baseline, r.unit)} (${r.baselineLabel})`;
    const note = r.note ? ` — ${r.note}` : '';
    lines.push(`| ${r.measurement}${note} | ${fmt(r.value, r.unit)} | ${baseline} | ${r.ratio === null ? '—' : round(r.ratio, 3)} | ${targetText(r.target, r.unit)} | ${r.met} |`);
  }
  return lines.join('\n');
}

export function environmentText(report: BenchReport): string {
  const e = report.environment;
  return [
    `${e.sharing}`,
    `CPU: ${e.cpus} × ${e.cpuModel}; node ${e.node}; ${e.redis}; ${e.kafka}; load average at start ${e.loadavgAtStart.map((l) => l.toFixed(2)).join(' ')}`,
    `mode ${report.mode}, seed ${report.seed}${report.profiled ? ', CPU-profiled (figures include profiler overhead)' : ''}`,
  ].join('\n');
}

/**
 * A horizontal bar per row with a target: how far the measurement is from its target
 * (1.0 = exactly on target, right of the line = met), log-scaled so that 0.1× and 10× are
 * equally readable. Plain SVG, no dependencies.
 */
export function svgChart(report: BenchReport): string {
  const rows = report.rows.filter((r) => r.target);
  const W = 980;
  const left = 400;
  const barH = 22;
  const gap = 10;
  const top = 60;
  const H = top + rows.length * (barH + gap) + 50;
  const scaleW = W - left - 40;
  const minLog = -1;
  const maxLog = 1;
  const x = (score: number) => left + ((Math.max(minLog, Math.min(maxLog, Math.log10(score))) - minLog) / (maxLog - minLog)) * scaleW;
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(`<text x="10" y="22" font-size="15" font-weight="bold">unread benchmark: each measurement against its target (${esc(report.startedAt)}, ${report.mode})</text>`);
  parts.push(`<text x="10" y="42" fill="#555">bar = how many times better than the target (log scale); the line at 1× is the target; green = met, red = missed</text>`);
  rows.forEach((r, i) => {
    const y = top + i * (barH + gap);
    const t = r.target!;
    const v = t.on === 'ratio' ? r.ratio : r.value;
    const score = v === null || !Number.isFinite(v) || v <= 0 ? NaN : t.op === '>=' ? v / t.limit : t.limit / v;
    parts.push(`<text x="${left - 8}" y="${y + 15}" text-anchor="end">${esc(r.measurement.replace(/\s*\([^)]{13,}\)/g, '').slice(0, 66))}</text>`);
    if (Number.isNaN(score)) {
      parts.push(`<text x="${left + 4}" y="${y + 15}" fill="#b00">not measured${r.note ? `: ${esc(r.note.slice(0, 60))}` : ''}</text>`);
      return;
    }
    const x0 = x(0.1);
    const x1 = x(score);
    parts.push(`<rect x="${x0}" y="${y}" width="${Math.max(1, x1 - x0)}" height="${barH}" fill="${r.met === 'yes' ? '#3a9d5d' : '#d0473b'}"/>`);
    const shown = t.on === 'ratio' ? `ratio ${round(v!, 3)}` : `${round(v!, 3)} ${r.unit}`;
    parts.push(`<text x="${Math.min(x1 + 4, W - 150)}" y="${y + 15}" fill="#222">${esc(shown)} (${esc(targetText(t, r.unit))})</text>`);
  });
  const lineX = x(1);
  parts.push(`<line x1="${lineX}" x2="${lineX}" y1="${top - 6}" y2="${H - 40}" stroke="#000" stroke-dasharray="4 3"/>`);
  for (const tick of [0.1, 0.3, 1, 3, 10]) {
    parts.push(`<text x="${x(tick)}" y="${H - 22}" text-anchor="middle" fill="#555">${tick}×</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}

/** Writes bench/results/<timestamp>.json, latest.json and latest.svg; returns the paths. */
export function writeResults(report: BenchReport, dir: string): { json: string; latest: string; svg: string } {
  mkdirSync(dir, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const text = `${JSON.stringify(report, null, 2)}\n`;
  const json = join(dir, `${stamp}.json`);
  const latest = join(dir, 'latest.json');
  const svg = join(dir, 'latest.svg');
  writeFileSync(json, text);
  writeFileSync(latest, text);
  writeFileSync(svg, svgChart(report));
  return { json, latest, svg };
}
