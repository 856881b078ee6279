// A change sent to many channels is encoded once and each channel's topic spliced in
// (local-supabase/src/realtime/protocol.ts, encodeForTopics): the text must be exactly what
// encodeMessage gives for that topic, in both protocol versions.
import { encodeForTopics, encodeMessage, type Vsn } from '../local-supabase/src/realtime/protocol';

const TOPICS = ['realtime:room:1', 'realtime:"quoted" \\ back\\slash', 'realtime:场景·龍🎲', 'realtime:\n\t\u2028', ''];
const MESSAGES = [
  {
    joinRef: null,
    ref: null,
    event: 'postgres_changes',
    payload: { ids: [7, 9], data: { record: { body: '"}],\\', n: 1 }, errors: null } },
  },
  { joinRef: '3', ref: '12', event: 'phx_reply', payload: { status: 'ok', response: {} } },
  { joinRef: null, ref: null, event: 'ev"ent', payload: [null, 'text', 2.5, { nested: [[]] }] },
  { joinRef: null, ref: null, event: 'x', payload: null },
];

describe.each(['1.0.0', '2.0.0'] as Vsn[])('vsn %s', (vsn) => {
  test.each(MESSAGES.map((m) => [m.event, m]))('%s: the spliced text is encodeMessage’s for every topic', (_, m) => {
    const frameFor = encodeForTopics(vsn, m);
    for (const topic of TOPICS) {
      const frame = frameFor(topic);
      expect(frame).toBe(encodeMessage(vsn, { ...m, topic }));
      // And it is JSON that carries the topic as sent.
      const parsed = JSON.parse(frame);
      expect(vsn === '2.0.0' ? parsed[2] : parsed.topic).toBe(topic);
    }
  });
});
