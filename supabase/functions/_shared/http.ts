// What every function answers with: JSON bodies with the CORS headers supabase-js documents.
import { corsHeaders } from 'npm:@supabase/supabase-js@2.119.1/cors';

export { corsHeaders };

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...corsHeaders, 'content-type': 'application/json; charset=utf-8' } });
}

export function requiredEnv(name: string): string {
  const value = Deno.env.get(name);
  if (!value) throw new Error(`the secret ${name} is not set (supabase secrets set ${name}=…)`);
  return value;
}
