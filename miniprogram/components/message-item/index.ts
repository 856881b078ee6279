// One message of the room, drawn from a MessageItem (format.ts). It only reports the reader's
// intents upward (retry, preview); the page talks to the core.
import { t } from '../../core/messages';
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
    onCopy() {
      const item = this.data.item as MessageItem;
      wx.setClipboardData({ data: item.text });
    },
    onPreview() {
      const item = this.data.item as MessageItem;
      if (item.url) this.triggerEvent('preview', { url: item.url });
    },
    onRetry() {
      const item = this.data.item as MessageItem;
      this.triggerEvent('retry', { key: item.key });
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
