// One message of the room, drawn from a MessageItem (format.ts). It only reports the reader's
// intents upward (retry, preview, the long-press menu, a quote, an avatar); the page talks to the core.
import { t } from '../../core/strings';
import { imageSource, type MessageItem } from './format';

Component({
  properties: {
    item: { type: Object, value: {} as MessageItem },
  },
  // Sent to the view for every rendered message: no sentence until one is shown.
  data: {
    /** The notice that replaces a broken image; '' while the image is fine. */
    brokenText: '',
    /** Set only while retrying a broken image; otherwise the image shows item.url. */
    retrySrc: '',
    attempt: 0,
  },
  observers: {
    // A new URL (the upload finished) starts over; untouched items cost no setData here.
    'item.url'() {
      if (this.data.brokenText || this.data.retrySrc) this.setData({ retrySrc: '', brokenText: '', attempt: 0 });
    },
  },
  methods: {
    /** Long-press: the page offers 回复, 复制, 撤回, 举报 and 屏蔽 as they apply. */
    onMenu() {
      this.triggerEvent('menu', { key: (this.data.item as MessageItem).key });
    },
    /** A tap on a reply's quote: the page scrolls to the replied message. */
    onQuote() {
      const item = this.data.item as MessageItem;
      if (item.replyTo) this.triggerEvent('quote', { id: item.replyTo });
    },
    /** A tap on the avatar or an action's name: the speaker's character card. */
    onCard() {
      this.triggerEvent('card', { key: (this.data.item as MessageItem).key });
    },
    onPreview() {
      const item = this.data.item as MessageItem;
      if (item.url) this.triggerEvent('preview', { url: item.url });
    },
    onRetry() {
      const item = this.data.item as MessageItem;
      if (item.status === 'failed') this.triggerEvent('retry', { key: item.key });
    },
    onImageError() {
      this.setData({ brokenText: t('imageBroken') });
    },
    onReloadImage() {
      const attempt = this.data.attempt + 1;
      this.setData({ brokenText: '', attempt, retrySrc: imageSource((this.data.item as MessageItem).url, attempt) });
    },
  },
});
