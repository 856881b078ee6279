// WeChat's privacy rules, as the app meets them. From base library 2.32.3 a privacy API (choosing a
// photo, the clipboard…) called before the person agreed to the mini program's 隐私保护指引 waits,
// and WeChat hands the app a `resolve`: the app shows its own consent sheet and answers agree (naming
// the tapped `<button open-type="agreePrivacyAuthorization">`) or disagree, and the waiting call
// continues or fails with errno 104
// (developers.weixin.qq.com/miniprogram/dev/api/open-api/privacy/wx.onNeedPrivacyAuthorization.html).
// ConsentRequests keeps those resolves and the sheets on screen; the platform feeds it WeChat's
// requests (platform/privacy.ts), the sheet component answers.

/** What the app may answer WeChat's request with. */
export type PrivacyAnswer = { event: 'agree'; buttonId: string } | { event: 'disagree' } | { event: 'exposureAuthorization' };

export type PrivacyResolve = (answer: PrivacyAnswer) => void;

/** A consent sheet on screen: the component shows itself when asked. */
export interface ConsentSheet {
  show(): void;
  hide(): void;
}

export interface PrivacySetting {
  /** The person has not agreed to the current 隐私保护指引 yet. */
  needed: boolean;
  /** The guide's name as the mini program's admin settings call it, e.g. 《…小程序隐私保护指引》. */
  contractName: string;
}

/** What the sheet, the privacy page and the pages that call privacy APIs use. */
export interface PrivacyGate {
  /** False on base libraries before 2.32.3: WeChat asks nothing, so the app shows no sheet. */
  readonly supported: boolean;
  /** A sheet attached to a page; the newest one shows requests. Returns its removal. */
  present(sheet: ConsentSheet): () => void;
  /** The person tapped the agree button `buttonId`: every waiting call continues. */
  agree(buttonId: string): void;
  /** The person declined: every waiting call fails with errno 104. */
  disagree(): void;
  /** Opens WeChat's page of the 隐私保护指引; false when it cannot (old base library, WeChat failed). */
  openContract(): Promise<boolean>;
  /** WeChat's record of the person's consent; null where the base library has none. */
  setting(): Promise<PrivacySetting | null>;
  /** Asks for consent now (the sheet shows unless the person agreed already); true once agreed. */
  ask(): Promise<boolean>;
}

/** The agree button's id: WeChat checks that the button named in resolve() was tapped. */
export const AGREE_BUTTON_ID = 'agree-btn';

export class ConsentRequests {
  private waiting: PrivacyResolve[] = [];
  private sheets: ConsentSheet[] = [];

  /** WeChat's request (one per waiting privacy call). */
  request(resolve: PrivacyResolve): void {
    const sheet = this.top();
    if (!sheet) {
      // No page can ask the person: a waiting call would hang the feature for good, so it fails
      // now with WeChat's own 104 and the feature says how to agree.
      console.warn('[privacy] WeChat asked for consent while no consent sheet is on screen');
      resolve({ event: 'disagree' });
      return;
    }
    this.waiting.push(resolve);
    // Tells WeChat the app's sheet is on screen (the documented exposureAuthorization event).
    resolve({ event: 'exposureAuthorization' });
    sheet.show();
  }

  present(sheet: ConsentSheet): () => void {
    this.sheets.push(sheet);
    // A page opened while a request waits (the lower page's sheet is now covered) asks it again.
    if (this.waiting.length > 0) sheet.show();
    return () => {
      this.sheets = this.sheets.filter((other) => other !== sheet);
      const next = this.top();
      if (this.waiting.length > 0 && next) next.show();
    };
  }

  agree(buttonId: string): void {
    this.answer({ event: 'agree', buttonId });
  }

  disagree(): void {
    this.answer({ event: 'disagree' });
  }

  private answer(answer: PrivacyAnswer): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const sheet of this.sheets) sheet.hide();
    for (const resolve of waiting) resolve(answer);
  }

  private top(): ConsentSheet | undefined {
    return this.sheets[this.sheets.length - 1];
  }
}
