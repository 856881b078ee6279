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
  // WeChat's privacy rules (core/privacy.ts, components/privacy-sheet, pages/privacy)
  loginPrivacyDenied: '登录需要你同意隐私保护指引：重试时会再次弹出说明，请选择“同意”',
  loginPrivacyUndeclared: '小程序没有在隐私保护指引中声明登录，暂时无法登录，请联系运营者',
  imagePrivacyDenied: '发送图片需要你同意隐私保护指引，再点一次图片按钮即可查看并同意',
  imagePrivacyUndeclared: '小程序没有声明使用相册和相机，暂时无法发送图片，请联系运营者',
  copyPrivacyDenied: '复制需要你同意隐私保护指引，再点一次即可查看并同意',
  copyPrivacyUndeclared: '小程序没有声明使用剪贴板，暂时无法复制，请联系运营者',
  copyFailed: '复制失败，请重试',
  privacySheetTitle: '隐私保护提示',
  privacySheetBody: '发送图片、复制文字和用微信身份登录前，请阅读并同意下面的隐私保护指引。不同意的话，这些功能将无法使用。',
  privacySheetInline: '阅读完毕后，请选择是否同意{contract}。',
  privacySheetContract: '《隐私保护指引》',
  privacySheetDisagree: '不同意',
  privacySheetAgree: '同意',
  privacyLink: '用户协议与隐私政策',
  privacyTitle: '用户协议与隐私政策',
  privacyConsentNeeded: '你还没有同意{contract}。',
  privacyConsentGiven: '你已同意{contract}。',
  privacyConsentAsk: '查看并同意',
  privacyOpenContract: '查看微信中的隐私保护指引',
  privacyBlockedLink: '管理我的屏蔽名单',
  privacyIntro:
    '欢迎来到角色扮演聊天室（以下简称“聊天室”）。聊天室由{operator}运营。请在使用前阅读本协议与隐私政策；在隐私保护提示中点“同意”，即表示你已阅读并同意。',
  privacyCollectTitle: '一、我们收集哪些信息',
  privacyCollectIdentity:
    '微信身份：你打开聊天室时，我们通过微信登录（wx.login）取得你在本小程序的 openid，用来在你的每台设备上认出同一个你。我们不获取你的微信昵称、头像或手机号。',
  privacyCollectContent: '你发布的内容：你发送的文字和图片、角色名和头像颜色、你开设的场景的标题和背景，以及发送时间。',
  privacyCollectReports: '举报和屏蔽：你举报了哪条消息、理由是什么，你屏蔽了谁。',
  privacyCollectDevice:
    '相册、相机和剪贴板：只在你点图片按钮时，由你从相册选一张或拍一张照片，我们只上传你选中的这一张；只在你点“复制”时写入剪贴板，我们从不读取剪贴板。',
  privacyUseTitle: '二、为什么收集',
  privacyUseService: '提供聊天服务：显示和传递消息，保存你的角色和场景。',
  privacyUseSecurity:
    '内容安全：依照法律法规和微信平台规则，你发布的文字和图片在别人看到之前，会交给微信的内容安全接口检测（检测时附带你的 openid）。未通过检测的内容只有你自己看得到。',
  privacyUseModeration: '处理举报、维护秩序：管理员查看被举报或待审核的内容，并可以隐藏消息、封禁账号。',
  privacyStoreTitle: '三、存在哪里，存多久',
  privacyStoreWhere: '你的信息保存在聊天室的服务器上（{region}），传输全程加密。',
  privacyStoreHowLong:
    '消息、图片、角色和场景一直保存，直到你撤回、管理员删除或你申请删除账号。被撤回或被隐藏的消息，其他人看不到，内容只留给管理员处理举报和申诉。封禁记录按微信身份保存。',
  privacyRulesTitle: '四、发言规则、举报和封禁',
  privacyRulesContent: '不得发布违法违规、色情低俗、暴力、辱骂、广告骚扰等内容，不得冒充他人。',
  privacyRulesReport:
    '每条别人的消息都可以长按“举报”。被 3 位用户举报的消息会先对所有人隐藏，等管理员处理。管理员可以隐藏或恢复消息、封禁发布者；被封禁的人仍能浏览，但不能发言、上传图片或举报，并会看到封禁原因。',
  privacyRightsTitle: '五、你的权利',
  privacyRightsRecall: '撤回：消息发出后 2 分钟内可以撤回，其他人只会看到“某某撤回了一条消息”。',
  privacyRightsBlock: '屏蔽：屏蔽某人后，TA 的消息在你的所有设备上都不再显示，对方不会收到通知；可以在“屏蔽名单”中解除。',
  privacyRightsDelete:
    '查阅、更正和删除：你可以随时联系我们，查阅或更正你的信息，或删除你的账号。删除账号会一并删除你的消息、图片、举报和屏蔽记录。',
  privacyMinorsTitle: '六、未成年人',
  privacyMinors: '未满 14 周岁的未成年人，请在监护人同意和陪同下使用。监护人可以联系我们，删除孩子的信息。',
  privacyThirdTitle: '七、微信提供的服务',
  privacyThird: '登录和内容安全检测由微信（腾讯）提供，适用微信的隐私政策。我们不把你的信息提供给其他任何人，法律法规要求的除外。',
  privacyContactTitle: '八、联系我们',
  privacyContact: '对本协议与隐私政策有疑问，或要查阅、更正、删除信息，请联系：{contact}。我们会在 15 个工作日内答复。',
  // The moderators' 管理 page (pages/manage, core/moderation-desk.ts)
  manageTitle: '管理',
  manageTabQueue: '待处理',
  manageTabBans: '封禁名单',
  manageReload: '刷新',
  manageEmpty: '没有待处理的消息',
  manageBansEmpty: '没有封禁任何人',
  manageLoadMore: '加载更多',
  manageLoadingMore: '正在加载…',
  manageNoMore: '没有更多了',
  manageHide: '隐藏',
  manageRestore: '恢复显示',
  manageDismiss: '驳回举报',
  manageBan: '封禁',
  manageUnban: '解封',
  manageCopyOpenid: '复制 openid',
  manageBanReasonLabel: '封禁理由',
  manageBanReasonPlaceholder: '封禁理由（对方会看到）',
  manageBanConfirm: '确认封禁',
  manageBanCancel: '取消',
  manageAuthorBanned: '作者已封禁',
  manageReports: '被举报 {count} 次：{reasons}',
  manageReportCount: '{reason} {count}',
  manageBanSince: '{date}封禁：{reason}',
  deskStatusPending: '审核中',
  deskStatusVisible: '显示中',
  deskStatusBlocked: '未通过审核',
  deskStatusHeld: '待审核',
  deskStatusHidden: '已隐藏',
  deskStatusRecalled: '已撤回',
  deskNotModerator: '只有管理员可以使用管理页面',
  deskMessageGone: '这条消息已不存在',
  deskFailed: '操作没有完成，请重试',
  deskHidden: '已隐藏，其他人看不到这条消息了',
  deskRestored: '已恢复显示',
  deskReportsDismissed: '已驳回举报，消息保持显示',
  deskBanned: '已封禁「{name}」',
  deskUnbanned: '已解封',
  banReasonEmpty: '请填写封禁理由',
  banReasonTooLong: '封禁理由最多 {max} 个字',
  reasonSpam: '广告骚扰',
  reasonAbuse: '辱骂攻击',
  reasonSexual: '色情低俗',
  reasonIllegal: '违法违规',
  reasonOther: '其他',
  // Blocks (pages/blocked, core/blocks.ts)
  blockedTitle: '屏蔽名单',
  blockedNote: '屏蔽后，TA 的消息在你的所有设备上都不再显示，对方不会收到通知。',
  blockedEmpty: '你没有屏蔽任何人',
  blockedSince: '{date}屏蔽',
  unblockAction: '解除屏蔽',
  unblockLabel: '解除对「{name}」的屏蔽',
  blockDone: '已屏蔽「{name}」，TA 的消息不再显示',
  unblockDone: '已解除对「{name}」的屏蔽',
  blockFailed: '屏蔽没有成功，请重试',
  unblockFailed: '解除屏蔽没有成功，请重试',
  blockSelf: '不能屏蔽自己',
  blockUnnamed: '无名氏',
  blockListFailed: '屏蔽名单加载失败，请重试',
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
