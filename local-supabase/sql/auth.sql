-- What GoTrue adds to the auth schema in its own later migrations, installed (idempotently) each
-- time the server starts, as GoTrue migrates its schema at boot; bootstrap.sql holds the base tables.

-- One-time tokens of magic links and sign-up confirmations (supabase/auth internal/models/user.go).
alter table auth.users
  add column if not exists confirmation_token varchar(255),
  add column if not exists confirmation_sent_at timestamptz,
  add column if not exists recovery_token varchar(255),
  add column if not exists recovery_sent_at timestamptz;
create index if not exists users_confirmation_token_idx on auth.users (confirmation_token) where confirmation_token is not null;
create index if not exists users_recovery_token_idx on auth.users (recovery_token) where recovery_token is not null;
-- One account per address (supabase/auth migrations: users_email_partial_key).
create unique index if not exists users_email_partial_key on auth.users (email) where is_sso_user = false;

-- How each session signed in; the `amr` claim of every token it issues (internal/models/amr.go).
create table if not exists auth.mfa_amr_claims (
  id uuid primary key default extensions.gen_random_uuid(),
  session_id uuid not null references auth.sessions (id) on delete cascade,
  authentication_method text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (session_id, authentication_method)
);
alter table auth.mfa_amr_claims enable row level security;
alter table auth.mfa_amr_claims owner to supabase_auth_admin;
