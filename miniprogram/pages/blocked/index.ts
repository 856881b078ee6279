// 屏蔽名单: the people this person blocked, newest first, each with 解除屏蔽. Unblocking reaches the
// room through the shared BlockList, so that person's messages can show again.
import { blockListProblem, type BlockedPerson } from '../../core/blocks';
import { pickTexts, t } from '../../core/strings';
import { dayLabel } from '../../components/message-item/format';
import { getSafetyServices } from '../../services';

interface BlockedItem {
  userId: string;
  name: string;
  since: string;
  unblockLabel: string;
}

function toItem(person: BlockedPerson, now: Date): BlockedItem {
  return {
    userId: person.userId,
    name: person.name,
    since: t('blockedSince', { date: dayLabel(new Date(person.blockedAt), now) }),
    unblockLabel: t('unblockLabel', { name: person.name }),
  };
}

function toast(title: string): void {
  wx.showToast({ title, icon: 'none', duration: 2500 });
}

Component({
  data: {
    t: pickTexts('blockedNote', 'blockedEmpty', 'unblockAction', 'loadErrorRetry'),
    loaded: false,
    loadError: '',
    people: [] as BlockedItem[],
    /** The person whose unblock is under way: their button waits. */
    busy: '',
  },
  methods: {
    async onLoad() {
      wx.setNavigationBarTitle({ title: t('blockedTitle') });
      await this.load();
    },

    async load() {
      try {
        const people = await getSafetyServices().blocks.list();
        const now = new Date();
        this.setData({ loaded: true, loadError: '', people: Array.from(people, (person) => toItem(person, now)) });
      } catch (error) {
        console.warn('loading the block list failed', error);
        this.setData({ loaded: true, loadError: blockListProblem(error) });
      }
    },

    onReload() {
      this.setData({ loadError: '' });
      return this.load();
    },

    async onUnblock(event: WechatMiniprogram.TouchEvent<WechatMiniprogram.IAnyObject, WechatMiniprogram.IAnyObject, { id: string }>) {
      const userId = event.currentTarget.dataset.id;
      const person = this.data.people.find((item) => item.userId === userId);
      if (!person || this.data.busy) return;
      this.setData({ busy: userId });
      const outcome = await getSafetyServices().blocks.unblock(userId, person.name);
      const data: Record<string, unknown> = { busy: '' };
      if (outcome.ok) data.people = this.data.people.filter((item) => item.userId !== userId);
      this.setData(data);
      toast(outcome.message);
    },
  },
});
