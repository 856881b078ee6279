// The chat room from a terminal, with the same core as the mini program, over Node's fetch and
// the `ws` WebSocket (realtime vsn 1.0.0). For people without WeChat, demos and load tests.
//
//   npm run chat -- --as 楚留香 [--name 楚留香] [--color '#c0392b'] [--url URL --key ANON_KEY] [--room lobby] [--store FILE]
//
// --as is who you are: the WeChat person the terminal logs in as through local-supabase's fake
// WeChat API (the same person every time, so two terminals with two names are two people).
// --name is the character you speak as: one of the person's characters, created when they have
// none of that name (default: the one that spoke last from this store, else one named after --as).
// Typed lines are sent; commands: /image <file>, /name <name>, /color <#rrggbb>, /retry, /help, /quit.
// The session, who speaks and the outbox live in a JSON file (default .local/chat-<as>.json), so a
// restart keeps the same session and delivers messages that were still waiting.
import './quiet-node-warning';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { SUPABASE_ANON_KEY, SUPABASE_URL, ROOM_SLUG } from '../miniprogram/config';
import { readImageInfo } from '../miniprogram/core/image-info';
import { connectionText, t } from '../miniprogram/core/strings';
import { cliText } from './cli-strings';
import { asBackendFailure, type KeyValueStore } from '../miniprogram/core/ports';
import { CharacterStore, type SpeakingCharacter } from '../miniprogram/core/characters';
import { nameProblemMessage, randomProfile } from '../miniprogram/core/profile';
import { checkColor } from '../miniprogram/core/rules';
import { RoomSession } from '../miniprogram/core/room-session';
import { SupabaseRoleplay } from '../miniprogram/core/supabase-roleplay';
import type { ChatMessage, RoomPatch } from '../miniprogram/core/types';
import { describeMessage } from './chat-lines';
import { localWechatLogin, nodeBackend, nodeClient } from '../lib/node-client';

const USAGE = `usage: npm run chat -- --as PERSON [--name NAME] [--color #rrggbb] [--url URL] [--key ANON_KEY] [--room SLUG] [--store FILE]
commands: /image <file>  /name <name>  /color <#rrggbb>  /retry  /help  /quit`;

/** Where the store keeps the person the terminal logs in as. */
const PERSON_KEY = 'cli:person';
/** How long /quit waits for messages still being sent. */
const QUIT_DRAIN_MS = 10000;

interface Options {
  as?: string;
  name?: string;
  color?: string;
  url: string;
  key: string;
  room: string;
  store?: string;
}

class UsageError extends Error {}

function parseArgs(argv: string[]): Options {
  const options: Options = { url: SUPABASE_URL, key: SUPABASE_ANON_KEY, room: ROOM_SLUG };
  const flags: Record<string, keyof Options> = {
    '--as': 'as',
    '--name': 'name',
    '--color': 'color',
    '--url': 'url',
    '--key': 'key',
    '--room': 'room',
    '--store': 'store',
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') throw new UsageError('');
    // Both `--name 楚留香` and `--name=楚留香`.
    const equals = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = equals > 0 ? arg.slice(0, equals) : arg;
    const inline = equals > 0 ? arg.slice(equals + 1) : undefined;
    const field = flags[flag];
    if (!field) throw new UsageError(`unknown argument ${arg}`);
    const value = inline ?? argv[++i];
    // `--name --store x` is a forgotten value, not a name starting with dashes.
    if (value === undefined || (inline === undefined && value.startsWith('--'))) throw new UsageError(`${flag} needs a value`);
    options[field] = value;
  }
  return options;
}

/** A KeyValueStore in one JSON file, written synchronously so a killed process loses nothing it acknowledged. */
function fileStore(file: string): KeyValueStore {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let values: Record<string, unknown> = {};
  if (fs.existsSync(file)) {
    try {
      values = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new UsageError(`${file} is not a valid store file: ${(error as Error).message}`);
    }
  }
  const write = () => {
    const temporary = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, JSON.stringify(values, null, 1));
    fs.renameSync(temporary, file);
  };
  return {
    get: <T>(key: string) => (key in values ? (values[key] as T) : null),
    keys: () => Object.keys(values),
    set: (key, value) => {
      values[key] = JSON.parse(JSON.stringify(value));
      write();
    },
    remove: (key) => {
      delete values[key];
      write();
    },
  };
}

/** Prints a patch; `messageOf` finds a message an update changed, to print it as it now reads. */
function render(patch: RoomPatch, print: (line: string) => void, messageOf: (key: string) => ChatMessage | undefined): void {
  switch (patch.type) {
    case 'reset':
    case 'append':
    case 'prepend':
      for (const message of patch.messages) print(describeMessage(message));
      return;
    case 'insert':
      print(describeMessage(patch.message));
      return;
    case 'update': {
      const { status, progress, error, errorDetail } = patch.changes;
      if (status === 'sent') print(`  ${cliText('sent')}`);
      else if (status === 'failed') print(`  ${cliText('failed', { reason: error ?? '', detail: errorDetail ?? '' })}`);
      else if (progress !== undefined && progress < 100) print(`  ${cliText('uploading', { percent: progress })}`);
      // What the message says changed: a verdict, a recall, the roll's result.
      const changed = patch.changes.state !== undefined || patch.changes.roll !== undefined;
      const message = changed ? messageOf(patch.key) : undefined;
      if (message) print(cliText('changed', { line: describeMessage(message) }));
      return;
    }
    case 'remove':
    case 'trim':
      return;
    case 'connection':
      print(`-- ${connectionText(patch.state)} --`);
      return;
    case 'scene': {
      const { title, topic, archived, pinned } = patch.scene;
      print(`== ${title}${archived ? `（${t('sceneBadgeArchived')}）` : ''} ==${topic ? ` ${topic}` : ''}`);
      if (pinned) print(cliText('pinned', { line: describeMessage(pinned) }));
      return;
    }
    case 'error':
      print(`! ${patch.message} (${patch.detail})`);
      return;
  }
}

/** The flags that name a role, refused before anything is sent when the rules refuse them. */
function checkRoleFlags(options: Options): void {
  const nameProblem = options.name === undefined ? null : nameProblemMessage(options.name);
  if (nameProblem) throw new UsageError(`invalid --name ${JSON.stringify(options.name)}: ${nameProblem}`);
  if (options.color !== undefined && !checkColor(options.color)) {
    throw new UsageError(`invalid --color ${JSON.stringify(options.color)}: ${t('colorInvalid')} (#rrggbb)`);
  }
}

/**
 * The character to speak as: the person's character named --name (created if they have none of
 * that name), else the one that spoke last on this store, else a new one named after --as. --color
 * recolours it. Refuses with the core's sentence when the backend does.
 */
async function chooseCharacter(characters: CharacterStore, options: Options, person: string): Promise<SpeakingCharacter> {
  const list = await characters.load();
  const named = options.name === undefined ? characters.speaking() : list.find((character) => character.name === options.name);
  const random = randomProfile();
  const name = named ? named.name : (options.name ?? (nameProblemMessage(person) ? random.name : person));
  const color = options.color ?? (named ? named.color : random.color);
  let id = named ? named.id : null;
  if (!named || named.color !== color) {
    const saved = await characters.save(id, {
      name,
      color,
      note: named ? named.note : '',
      portraitPath: named ? named.portraitPath : null,
    });
    if (!saved.ok) throw new Error(saved.problem);
    id = saved.character.id;
  }
  const problem = await characters.select(id!);
  if (problem) throw new Error(problem);
  return characters.current()!;
}

/** /name and /color: the speaking character, renamed or recoloured. */
async function editCharacter(characters: CharacterStore, change: { name?: string; color?: string }): Promise<string> {
  const speaking = characters.speaking();
  if (!speaking) return `! ${t('characterMissing')}`;
  const next = { name: change.name ?? speaking.name, color: change.color ?? speaking.color };
  const saved = await characters.save(speaking.id, { ...next, note: speaking.note, portraitPath: speaking.portraitPath });
  return saved.ok ? cliText('role', next) : `! ${saved.problem}`;
}

async function sendImage(session: RoomSession, file: string, print: (line: string) => void): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file);
  } catch (error) {
    print(`! ${cliText('imageUnreadable', { file, detail: (error as Error).message })}`);
    return;
  }
  const info = readImageInfo(bytes);
  if (!info) {
    print(`! ${cliText('notAnImage', { file })}`);
    return;
  }
  session.sendImage({ path: path.resolve(file), size: bytes.length, ...info });
}

function hasSending(session: RoomSession): boolean {
  return session.messages().some((message) => message.status === 'sending');
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const storeFile = options.store ?? path.join('.local', `chat-${options.as ?? options.name ?? 'default'}.json`);
  const store = fileStore(storeFile);
  // The store remembers who logged in, so a restart with --store alone is the same person.
  const person = options.as ?? (await store.get<string>(PERSON_KEY)) ?? options.name;
  if (!person) throw new UsageError('--as PERSON is required: who you log in as');
  await store.set(PERSON_KEY, person);
  checkRoleFlags(options);
  const print = (line: string) => process.stdout.write(`${line}\n`);

  const client = nodeClient(options.url, options.key, store);
  const backend = nodeBackend(client, localWechatLogin(options.url, options.key, person));
  const characters = new CharacterStore(new SupabaseRoleplay(client, backend), store);

  // Fail fast with a clear message when the server cannot be reached at all.
  try {
    await backend.userId();
  } catch (error) {
    const failure = asBackendFailure(error);
    console.error(
      failure.status === 0
        ? `chat: cannot reach ${options.url} (${failure.message}). Is the server running? Try \`npm start\`.`
        : `chat: ${options.url} refused the WeChat login of ${person}: ${failure.detail}. Check --url and --key; only local-supabase's fake WeChat API knows terminal people.`,
    );
    process.exit(1);
  }
  const profile = await chooseCharacter(characters, options, person);

  const session = new RoomSession({
    backend,
    store,
    roomSlug: options.room,
    speaker: () => characters.current() ?? profile,
  });
  session.onPatch((patch) => render(patch, print, (key) => session.messages().find((message) => message.key === key)));
  print(cliText('joined', { name: profile.name, color: profile.color, room: options.room, url: options.url }));
  await session.start();

  let quitting = false;
  const quit = async (code: number) => {
    if (quitting) return;
    quitting = true;
    const deadline = Date.now() + QUIT_DRAIN_MS;
    while (hasSending(session) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    session.stop();
    await session.flush();
    process.exit(code);
  };

  const input = readline.createInterface({ input: process.stdin, terminal: false });
  input.on('line', (line) => {
    const [command, ...rest] = line.split(' ');
    const argument = rest.join(' ').trim();
    switch (command) {
      case '/quit':
        void quit(0);
        return;
      case '/help':
        print(USAGE);
        return;
      case '/image':
        void sendImage(session, argument, print);
        return;
      case '/name':
      case '/color':
        void editCharacter(characters, command === '/name' ? { name: argument } : { color: argument }).then(print);
        return;
      case '/retry':
        for (const message of session.messages()) if (message.status === 'failed') session.retry(message.key);
        return;
      default:
        if (line.trim()) session.sendText(line);
    }
  });
  // End of input (a pipe, Ctrl-D): deliver what was typed, then leave.
  input.on('close', () => void quit(0));
}

main().catch((error) => {
  if (error instanceof UsageError) {
    if (error.message) console.error(`chat: ${error.message}`);
    console.error(USAGE);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
