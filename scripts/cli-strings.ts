// The terminal client's own sentences (scripts/chat.ts and its line formats). They live here, not
// in miniprogram/core/strings.ts, because every byte of that table ships in the mini program.
import { fill } from '../miniprogram/core/strings';

const CLI = {
  joined: '{name}（{color}）进入 {room}：{url}',
  pinned: '公告：{line}',
  roll: '{name} 掷骰 {expression}：{dice} = {total}{outcome}',
  rollPending: '{name} 掷骰 {expression}…',
  changed: '  → {line}',
  quote: '↩ 回复 {name}：{text}',
  sent: '✓ 已发送',
  failed: '✗ {reason}（{detail}），输入 /retry 重发',
  uploading: '上传 {percent}%',
  image: '[图片 {width}×{height}] {url}',
  imageUnreadable: '读不到图片 {file}：{detail}',
  notAnImage: '{file} 不是 PNG、JPEG、GIF 或 WebP 图片',
  role: '身份：{name}（{color}）',
};

export function cliText(id: keyof typeof CLI, params: Record<string, string | number> = {}): string {
  return fill(CLI[id], params);
}
