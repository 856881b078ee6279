// Random ids without crypto: WeChat's runtime has no crypto.randomUUID.
//
// Why Math.random is enough here: a client_id only has to be unique, it is not a secret. 122
// random bits make an accidental collision negligible, and the one harm a collision or a guessed
// id could do (a duplicate that would be counted as our success) is caught by the outbox, which
// checks that the row holding a duplicate client_id is really ours and otherwise resends under a
// fresh id. A platform with a CSPRNG (wx.getRandomValues, Node's crypto) may inject its own
// IdGenerator instead.
import type { IdGenerator } from './ports';

const HEX = '0123456789abcdef';

/** A version-4 UUID (xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx) from `random`. */
export function uuidV4(random: () => number = Math.random): string {
  let out = '';
  for (let i = 0; i < 36; i++) {
    if (i === 8 || i === 13 || i === 18 || i === 23) out += '-';
    else if (i === 14) out += '4';
    // The variant nibble is 10xx: 8, 9, a or b.
    else if (i === 19) out += HEX[8 + Math.floor(random() * 4)];
    else out += HEX[Math.floor(random() * 16)];
  }
  return out;
}

export const randomId: IdGenerator = () => uuidV4();
