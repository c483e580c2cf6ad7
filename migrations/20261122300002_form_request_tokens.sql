-- The link of a form request (`/public/forms/{token}`): a random token (32 bytes, URL-safe
-- base64) that lets whoever holds it see and submit that one form. It is a capability, so
-- like other secrets it never enters an event, and it never appears in a response of the
-- authenticated API either: it reaches the contact only in the email the notifier sends.
--
-- One row per form request, written in the same transaction as its `FormRequested` event:
-- - `token_hash` (sha-256 of the token) is how a link is resolved; it stays while the link
--   is valid.
-- - `sealed_token` + `nonce` hand the token itself over to the notifier, the same way an
--   invited staff member's password is handed over (staff_invitation_secrets): encrypted
--   with AES-256-GCM under CAREOPS_SECRET_KEY, bound to `request_id`. The notifier reads
--   it once to build the link (service_runtime::form_tokens::take_link_token), which clears
--   both columns; until then only a process holding the key can read it.
-- - `expires_at` ends the link (and any sealed copy not taken by then is useless).
create table form_request_tokens (
    request_id    uuid        primary key,
    workspace_id  uuid        not null,
    token_hash    bytea       not null unique,
    nonce         bytea,
    sealed_token  bytea,
    created_at    timestamptz not null default now(),
    expires_at    timestamptz not null,
    constraint form_request_tokens_sealed_whole check ((nonce is null) = (sealed_token is null))
);

comment on table form_request_tokens is
    'Links of form requests: the token''s hash, and the token sealed for the notifier until it reads it once';
