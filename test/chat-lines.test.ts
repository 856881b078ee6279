// The terminal client's line for each kind and state, in the words the room draws.
import { describeMessage } from '../scripts/chat-lines';
import { chatMessage } from './support/simulate';

/** The message's local time of day, as a terminal prints it. */
const AT = `[${new Date(chatMessage(1).createdAt).toTimeString().slice(0, 8)}]`;

test.each([
  ['对白', { body: '在下楚留香' }, `${AT} 令狐冲：在下楚留香`],
  ['动作', { kind: 'action', body: '拔剑而起' }, `${AT} 令狐冲 拔剑而起`],
  ['场外', { kind: 'ooc', body: '先去吃饭' }, `${AT} 令狐冲（场外）：先去吃饭`],
  [
    '掷骰',
    {
      kind: 'roll',
      body: '2d6+3',
      roll: {
        expression: '2d6+3',
        terms: [
          { sign: 1, count: 2, faces: 6, dice: [4, 5] },
          { sign: 1, value: 3 },
        ],
        total: 12,
      },
    },
    `${AT} 令狐冲 掷骰 2d6+3：4 5 + 3 = 12`,
  ],
  [
    '检定',
    {
      kind: 'roll',
      body: 'd100<=60',
      roll: {
        expression: 'd100<=60',
        terms: [{ sign: 1, count: 1, faces: 100, dice: [1] }],
        total: 1,
        check: { target: 60, outcome: 'critical_success' },
      },
    },
    `${AT} 令狐冲 掷骰 d100<=60：1 = 1 大成功`,
  ],
  ['暗骰', { kind: 'roll', body: 'd100', hidden: true, roll: null }, `${AT} 令狐冲 掷了一次暗骰`],
  ['掷骰，结果未到', { kind: 'roll', body: '2d6', roll: null }, `${AT} 令狐冲 掷骰 2d6…`],
  ['撤回', { state: 'recalled', body: null }, `${AT} 令狐冲撤回了一条消息`],
  [
    '回复',
    { body: '同去', replyTo: 3, replyPreview: { username: '胡铁花', text: '喝酒去', kind: 'text' } },
    `${AT} 令狐冲：同去 ↩ 回复 胡铁花：喝酒去`,
  ],
  ['自己的审核中', { mine: true, state: 'pending', body: '等一等' }, `${AT} 令狐冲：等一等 (审核中)`],
  ['自己的未通过', { mine: true, state: 'blocked', label: 20003, body: '……' }, `${AT} 令狐冲：…… (未通过审核：含辱骂内容)`],
] as const)('%s', (_kind, fields, line) => {
  expect(describeMessage(chatMessage(1, fields as never))).toBe(line);
});
