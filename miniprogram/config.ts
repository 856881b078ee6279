// Backend the mini program talks to. Defaults to the local stack (`npm start` or `supabase start`),
// whose URL and anon key are the Supabase CLI's public local-development values.
// For a real project, run `npm run configure -- --url https://<ref>.supabase.co --key <anon key>`
// or edit these two lines; the anon key is public by design (RLS protects the data).
export const SUPABASE_URL = 'http://127.0.0.1:54321';
export const SUPABASE_ANON_KEY =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0';
export const ROOM_SLUG = 'lobby';
/**
 * How people log in with WeChat: 'function' on stock Supabase (the wechat-login Edge Function,
 * deployed with `npm run functions:deploy`), 'memfire' on MemFire Cloud (its built-in WeChat login).
 * local-supabase serves both.
 */
export const WECHAT_LOGIN: 'function' | 'memfire' = 'function';
/**
 * Who runs this mini program, as 用户协议与隐私政策 (pages/privacy) names them: the operator's name,
 * how people reach them, and where the backend keeps the data (the Supabase project's region).
 * Fill these in before submitting for review.
 */
export const OPERATOR = { name: '（运营者名称）', contact: '（联系邮箱）', dataRegion: '（服务器所在地区）' };
