-- Supabase Vault's SQL API as supabase/vault 0.3.1 defines it (sql/supabase_vault--0.3.0.sql; no SQL
-- changes in 0.3.1), followed by the grants Supabase makes once it is created (supabase/postgres
-- ansible/files/postgresql_extension_custom_scripts/supabase_vault/after-create.sql).
--
-- Secrets are NOT encrypted here: vault.secrets.secret holds the plaintext and decrypted_secret
-- is that same text. Hosted Vault stores them encrypted with a key kept outside the database;
-- what a role may read is the same in both.
\echo Use "CREATE EXTENSION supabase_vault" to load this file. \quit

create table vault.secrets (
  id uuid primary key default gen_random_uuid(),
  name text,
  description text not null default '',
  secret text not null,
  key_id uuid,
  nonce bytea,
  created_at timestamptz not null default current_timestamp,
  updated_at timestamptz not null default current_timestamp
);
comment on table vault.secrets is 'Table with encrypted `secret` column for storing sensitive information on disk.';
create unique index on vault.secrets using btree (name) where name is not null;

create view vault.decrypted_secrets as
select s.id, s.name, s.description, s.secret, s.secret as decrypted_secret, s.key_id, s.nonce, s.created_at, s.updated_at
from vault.secrets s;

create function vault.create_secret(new_secret text, new_name text = null, new_description text = '', new_key_id uuid = null)
returns uuid security definer language sql set search_path = '' as $$
  insert into vault.secrets (secret, name, description) values (new_secret, new_name, new_description) returning id
$$;

create function vault.update_secret(
  secret_id uuid, new_secret text = null, new_name text = null, new_description text = null, new_key_id uuid = null
) returns void security definer language sql set search_path = '' as $$
  update vault.secrets s
  set secret = coalesce(new_secret, s.secret),
      name = coalesce(new_name, s.name),
      description = coalesce(new_description, s.description),
      updated_at = now()
  where s.id = secret_id
$$;

revoke all on function vault.create_secret, vault.update_secret from public;

select pg_catalog.pg_extension_config_dump('vault.secrets', '');

-- postgres and service_role manage secrets; anon and authenticated get nothing.
grant usage on schema vault to postgres with grant option;
grant select, delete on vault.secrets, vault.decrypted_secrets to postgres with grant option;
grant execute on function vault.create_secret, vault.update_secret to postgres with grant option;
grant usage on schema vault to service_role;
grant select, delete on vault.secrets, vault.decrypted_secrets to service_role;
grant execute on function vault.create_secret, vault.update_secret to service_role;
