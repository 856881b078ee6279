// The README's command table is where a newcomer looks for what the project can do: it lists
// every script in package.json.
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '..');
/** Scripts npm runs by itself (https://docs.npmjs.com/cli/using-npm/scripts#life-cycle-scripts). */
const NPM_LIFECYCLE = ['preinstall', 'install', 'postinstall', 'prepare', 'prepack', 'postpack', 'prepublishOnly'];

it('the README command table lists every package.json script', () => {
  const scripts = Object.keys(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts);
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Commands\n'));
  const table = section.slice(0, section.indexOf('\n\n', section.indexOf('\n|')));
  const runByNpm = (name: string) =>
    NPM_LIFECYCLE.includes(name) || scripts.some((other) => name === `pre${other}` || name === `post${other}`);
  // A lifecycle script is named in the table; every other script appears as the command that runs it.
  const forms = (name: string) => (runByNpm(name) ? [`\`${name}\``] : [`\`npm run ${name}\``, `\`npm run ${name} `, `\`npm ${name}\``]);
  const listed = (name: string) => forms(name).some((form) => table.includes(form));
  expect(scripts.filter((name) => !listed(name))).toEqual([]);
});
