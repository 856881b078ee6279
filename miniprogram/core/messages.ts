// Every sentence a user reads, in one table per language so English can follow. The core's
// strings come first; the pages add their UI text to the same table. `{name}` marks a parameter.
import type { ConnectionState } from './types';

export const zh = {
  // Sending
  sendRejectedRule: '消息不符合规则，未发送',
  sendRateLimited: '发送太频繁，稍后自动发送',
  sendNoPermission: '没有发送权限，请重新进入聊天室',
  sendNetwork: '网络不佳，发送失败，点按重试',
  sendFailed: '发送失败，点按重试',
  imageTooLarge: '图片太大，请换一张',
  imageTypeUnsupported: '不支持这种图片格式',
  uploadFailed: '图片上传失败，点按重试',
  imageFileMissing: '图片文件已不在手机上，请重新选择',
  sendBanned: '你已被管理员禁止发言',
  noCharacter: '先创建一个角色再发言吧',
  recallTooLate: '消息发出超过 2 分钟，不能撤回了',
  recallNotYours: '只能撤回自己的消息',
  recallFailed: '撤回没有成功，请稍后再试',
  reportFailed: '举报没有成功，请稍后再试',
  actionNetwork: '网络不佳，请稍后再试',
  sendCharacterBlocked: '这个角色的资料未通过审核，换个角色再说吧',
  sendSceneArchived: '这个场景已归档，不能再发言',
  sendReplyUnavailable: '要回复的消息已看不到了',
  // Login
  loginHighRisk: '微信提示你的账号存在安全风险，暂时无法登录',
  loginBusy: '微信登录繁忙，正在重试…',
  loginFailed: '微信登录没有成功，正在重试…',
  outboxFull: '待发送的消息太多，请等前面的消息发出后再发',
  // Room
  roomNotFound: '找不到聊天室「{slug}」',
  loadFailed: '消息加载失败，请检查网络',
  connectFailed: '连接服务器失败，请检查网络',
  // Profile
  nameEmpty: '请输入角色名',
  nameTooLong: '角色名最多 {max} 个字',
  nameUntrimmed: '角色名首尾不能有空格',
  nameInvisibleChars: '角色名不能包含不可见字符',
  colorInvalid: '请选择头像颜色',
  storageFailed: '保存失败，请检查手机存储空间',
  textEmpty: '不能发送空消息',
  diceEmpty: '写一个骰子表达式，比如 .r 2d6+3',
  diceSyntax: '看不懂这个骰子表达式，试试 .r 2d6+3 或 .r d100<=60',
  diceNoDie: '至少要掷一个骰子，比如 d100',
  diceFaces: '骰子的面数要在 2 到 1000 之间',
  diceTooMany: '一次最多掷 20 个骰子',
  diceTooBig: '数字最大是 10000',
  textTooLong: '消息最多 {max} 个字',
  // Pages (miniprogram/pages, miniprogram/components)
  roomTitle: '角色扮演聊天室',
  connectionConnecting: '连接中',
  connectionConnected: '已连接',
  connectionReconnecting: '重连中…',
  connectionOffline: '已断开',
  connectionRetry: '重试',
  connectionRetryLabel: '重新连接服务器',
  changeRole: '更换',
  changeRoleLabel: '更换角色：{name}',
  loadingOlder: '正在加载更早的消息…',
  noOlder: '没有更早的消息了',
  loadingRoom: '正在进入聊天室…',
  emptyRoom: '还没有人说话，来说第一句吧',
  loadErrorRetry: '重新加载',
  newMessages: '{count} 条新消息 ↓',
  newMessagesLabel: '有新消息，点按跳到最新',
  composerPlaceholder: '说点什么…',
  composerLabel: '输入消息',
  send: '发送',
  sendLabel: '发送消息',
  sendImageLabel: '发送图片',
  pickImageFailed: '无法读取这张图片，请换一张',
  statusSending: '发送中…',
  statePending: '审核中',
  stateHeld: '等待人工审核',
  stateBlocked: '未通过审核：{label}',
  labelAd: '含广告',
  labelPolitics: '涉及时政',
  labelPorn: '含色情内容',
  labelAbuse: '含辱骂',
  labelIllegal: '涉及违法犯罪',
  labelFraud: '涉嫌欺诈',
  labelVulgar: '内容低俗',
  labelCopyright: '涉及版权',
  labelOther: '内容不合规',
  recalledByMe: '你撤回了一条消息',
  recalledBy: '{name}撤回了一条消息',
  hiddenMessage: '该消息已被隐藏',
  rolledHidden: '掷了一次暗骰',
  rollSuccess: '成功',
  rollFailure: '失败',
  rollCriticalSuccess: '大成功',
  rollCriticalFailure: '大失败',
  quoteImage: '[图片]',
  quoteWithheld: '[消息已不可见]',
  ooc: '场外',
  voiceText: '对白',
  voiceAction: '动作',
  voiceOoc: '场外',
  voiceLabel: '切换说话方式：对白、动作或场外',
  menuReply: '回复',
  menuCopy: '复制',
  menuRecall: '撤回',
  menuReport: '举报',
  reasonSpam: '广告或刷屏',
  reasonAbuse: '辱骂或人身攻击',
  reasonSexual: '色情低俗',
  reasonIllegal: '违法违规',
  reasonOther: '其他',
  reported: '已举报，感谢你的反馈',
  replyingTo: '回复 {name}：{text}',
  replyCancelLabel: '取消回复',
  quoteNotFound: '找不到这条消息了',
  typing: '{names} 正在输入…',
  typingMany: '{name} 等 {count} 人正在输入…',
  retryLabel: '重新发送这条消息',
  imageBroken: '图片加载失败，点按重试',
  imageLabel: '{name} 发送的图片，点按查看大图',
  today: '今天',
  yesterday: '昨天',
  dateThisYear: '{month}月{day}日',
  dateOtherYear: '{year}年{month}月{day}日',
  roleTitle: '选择你的角色',
  roleNameLabel: '角色名',
  roleNamePlaceholder: '输入名字，或点“随机”',
  roleRandom: '随机',
  roleRandomLabel: '随机生成一个江湖名号',
  roleColorLabel: '头像颜色',
  roleSwatchLabel: '头像颜色 {number}',
  rolePreviewLabel: '预览',
  rolePreviewSample: '各位好，在下初来乍到，请多指教。',
  roleEnter: '进入聊天室',
  roleSave: '保存角色',
  roleSaveNote: '更换角色只影响之后发送的消息',
  // Terminal client (scripts/chat.ts)
  cliJoined: '{name}（{color}）进入 {room}：{url}',
  cliSent: '✓ 已发送',
  cliFailed: '✗ {reason}（{detail}），输入 /retry 重发',
  cliUploading: '上传 {percent}%',
  cliImage: '[图片 {width}×{height}] {url}',
  cliImageUnreadable: '读不到图片 {file}：{detail}',
  cliNotAnImage: '{file} 不是 PNG、JPEG、GIF 或 WebP 图片',
  cliRole: '身份：{name}（{color}）',
};

export type MessageId = keyof typeof zh;

/** What the header (or the terminal) says for each connection state. */
export function connectionText(state: ConnectionState): string {
  return t(CONNECTION_MESSAGES[state]);
}

const CONNECTION_MESSAGES: Record<ConnectionState, MessageId> = {
  connecting: 'connectionConnecting',
  connected: 'connectionConnected',
  reconnecting: 'connectionReconnecting',
  offline: 'connectionOffline',
};

/**
 * The sentences a page or component shows, for its render data. Render data is copied to the view
 * (once per component instance), so none carries the whole table.
 */
export function pickTexts<K extends MessageId>(...ids: K[]): Pick<typeof zh, K> {
  const texts = {} as Pick<typeof zh, K>;
  for (const id of ids) texts[id] = zh[id];
  return texts;
}

export function t(id: MessageId, params: Record<string, string | number> = {}): string {
  return zh[id].replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}
