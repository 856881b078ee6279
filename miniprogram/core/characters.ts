// A person's characters (人设卡): up to 10, each a name, an avatar colour, an optional square
// portrait and a 人设 note, stored in public.characters and checked by content security. The store
// also remembers on the device which character speaks, per person (the first one until chosen),
// and keeps the last list it read there, so the app knows who speaks before the network answers.
import { requestProblem } from './failures';
import { randomId } from './ids';
import { t } from './strings';
import { settle, type IdGenerator, type KeyValueStore } from './ports';
import { initialOf, profileProblem } from './profile';
import { CHARACTERS_MAX, checkNote, NOTE_MAX } from './rules';
import type { PickedImage } from './types';
import { moderationStatus, verdictText, type ModerationStatus } from './verdicts';
import type { Tables } from '../../typings/database.types';

export type CharacterRow = Tables<'characters'>;

export interface Character {
  id: number;
  name: string;
  color: string;
  note: string;
  portraitPath: string | null;
  /** The portrait's public URL; '' when the character has none. */
  portraitUrl: string;
  status: ModerationStatus;
  label: number | null;
}

/** Who speaks, as a message carries it. */
export interface SpeakingCharacter {
  characterId: number;
  name: string;
  color: string;
}

/** What the editor saves. `portraitPath` is the portrait kept from before (null: none). */
export interface CharacterDraft {
  name: string;
  color: string;
  note: string;
  portraitPath: string | null;
}

/** A character as the card shown on an avatar tap draws it. */
export interface CharacterCard {
  id: number;
  name: string;
  color: string;
  initial: string;
  portraitUrl: string;
  note: string;
  /** The owner's notice while content security has not passed it ('' once visible). */
  verdict: string;
}

export type SaveResult = { ok: true; character: Character } | { ok: false; problem: string };

/** What characters need from the backend. Every method rejects with a BackendFailure. */
export interface CharacterPort {
  /** The signed-in person; signs in with WeChat first when there is no session. */
  userId(): Promise<string>;
  /** The person's characters, oldest first. */
  ownCharacters(owner: string): Promise<CharacterRow[]>;
  /** Creates (id null) or edits one of the person's characters (rpc save_character). */
  saveCharacter(id: number | null, draft: CharacterDraft): Promise<CharacterRow>;
  deleteCharacter(id: number): Promise<void>;
  /** A character the person may read (their own, or one that passed content security). */
  characterById(id: number): Promise<CharacterRow | null>;
  /** Stores a portrait's bytes in the images bucket; an object already there counts as stored. */
  uploadPortrait(storagePath: string, image: PickedImage): Promise<void>;
  publicImageUrl(storagePath: string): string;
}

/** The device keys: the last list read, and who speaks for each person. */
export const CHARACTERS_KEY = 'characters';
export const speakingKey = (owner: string) => `speaking:${owner}`;

interface SavedList {
  owner: string;
  characters: Character[];
}

/** The problem the editor shows under its fields, checked as the database's CHECKs check. */
export function draftProblem(draft: CharacterDraft): string | null {
  return profileProblem(draft) || (checkNote(draft.note) ? t('noteTooLong', { max: NOTE_MAX }) : null);
}

/** images/<uid>/portraits/<uuid>.<ext>, the only place the database accepts a portrait. */
export function portraitPath(owner: string, image: PickedImage, newId: IdGenerator): string {
  const extension = image.mime === 'image/png' ? 'png' : image.mime === 'image/webp' ? 'webp' : 'jpg';
  return `${owner}/portraits/${newId()}.${extension}`;
}

export class CharacterStore {
  private owner: string | null = null;
  private characters: Character[] = [];
  private speakingId: number | null = null;
  private readonly cards = new Map<number, CharacterCard>();

  constructor(
    private readonly port: CharacterPort,
    private readonly store: KeyValueStore,
    private readonly newId: IdGenerator = randomId,
  ) {}

  /**
   * Reads the person's characters. Without an answer it keeps the list last read on this device,
   * and rejects only when it has none for this person.
   */
  async load(): Promise<Character[]> {
    const owner = await this.port.userId();
    let characters: Character[];
    try {
      characters = (await this.port.ownCharacters(owner)).map((row) => this.fromRow(row));
    } catch (error) {
      const saved = await this.store.get<SavedList>(CHARACTERS_KEY);
      if (!saved || saved.owner !== owner) throw error;
      characters = saved.characters;
    }
    this.owner = owner;
    this.speakingId = await this.store.get<number>(speakingKey(owner));
    await this.keep(characters);
    return characters;
  }

  /** True once load() has answered. */
  get loaded(): boolean {
    return this.owner !== null;
  }

  list(): Character[] {
    return this.characters;
  }

  /** The character new messages speak as: the one chosen on this device, else the first. */
  speaking(): Character | null {
    return this.characters.find((character) => character.id === this.speakingId) || this.characters[0] || null;
  }

  current(): SpeakingCharacter | null {
    const character = this.speaking();
    return character && { characterId: character.id, name: character.name, color: character.color };
  }

  /** Makes one of the person's characters speak from now on, remembered on this device. */
  async select(id: number): Promise<string | null> {
    if (!this.owner || !this.characters.some((character) => character.id === id)) return t('characterMissing');
    try {
      await settle(() => this.store.set(speakingKey(this.owner!), id));
    } catch {
      return t('storageFailed');
    }
    this.speakingId = id;
    return null;
  }

  /**
   * Creates (id null) or edits a character. A new portrait is uploaded first, into the person's
   * own folder; the draft's fields are checked before anything is sent.
   */
  async save(id: number | null, draft: CharacterDraft, portrait: PickedImage | null = null): Promise<SaveResult> {
    const problem = draftProblem(draft);
    if (problem) return { ok: false, problem };
    try {
      const owner = this.owner || (await this.port.userId());
      let path = draft.portraitPath;
      if (portrait) {
        path = portraitPath(owner, portrait, this.newId);
        try {
          await this.port.uploadPortrait(path, portrait);
        } catch (error) {
          return { ok: false, problem: requestProblem(error, {}, t('portraitUploadFailed')) };
        }
      }
      const row = await this.port.saveCharacter(id, { ...draft, portraitPath: path });
      const character = this.fromRow(row);
      this.owner = owner;
      this.cards.delete(character.id);
      const others = this.characters.filter((other) => other.id !== character.id);
      await this.keep(others.concat(character).sort((a, b) => a.id - b.id));
      return { ok: true, character };
    } catch (error) {
      return { ok: false, problem: this.saveProblem(error) };
    }
  }

  /** Deletes one of the person's characters; the last one stays (someone must speak). */
  async remove(id: number): Promise<string | null> {
    if (this.characters.length <= 1) return t('characterKeepOne');
    try {
      await this.port.deleteCharacter(id);
    } catch (error) {
      return requestProblem(error, {}, t('characterDeleteFailed'));
    }
    this.cards.delete(id);
    await this.keep(this.characters.filter((character) => character.id !== id));
    return null;
  }

  /** The card of any character the person may read (someone's avatar was tapped); null when none. */
  async characterCard(id: number): Promise<CharacterCard | null> {
    const own = this.characters.find((character) => character.id === id);
    if (own) return cardOf(own);
    const known = this.cards.get(id);
    if (known) return known;
    const row = await this.port.characterById(id);
    if (!row) return null;
    const card = cardOf(this.fromRow(row));
    this.cards.set(id, card);
    return card;
  }

  private saveProblem(error: unknown): string {
    return requestProblem(
      error,
      {
        RCCHR: t('characterLimit', { max: CHARACTERS_MAX }),
        '23514': t('characterRejected'),
        '42501': t('characterNoPermission'),
      },
      t('saveFailed'),
    );
  }

  private fromRow(row: CharacterRow): Character {
    return {
      id: row.id,
      name: row.name,
      color: row.avatar_color,
      note: row.note,
      portraitPath: row.portrait_path,
      portraitUrl: row.portrait_path ? this.port.publicImageUrl(row.portrait_path) : '',
      status: moderationStatus(row.status),
      label: row.label,
    };
  }

  /** The list in memory and on the device (best effort: a full device keeps only the memory). */
  private async keep(characters: Character[]): Promise<void> {
    this.characters = characters;
    await settle(() => this.store.set<SavedList>(CHARACTERS_KEY, { owner: this.owner!, characters })).catch(() => undefined);
  }
}

function cardOf(character: Character): CharacterCard {
  return {
    id: character.id,
    name: character.name,
    color: character.color,
    initial: initialOf(character.name),
    portraitUrl: character.portraitUrl,
    note: character.note,
    verdict: verdictText(character.status, character.label),
  };
}
