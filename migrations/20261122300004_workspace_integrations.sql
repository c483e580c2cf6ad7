-- A workspace's own delivery providers (PUT /api/v1/workspace/integrations).
--
-- Provider keys and passwords are secrets: they must never reach an event, a response or a
-- log line. The non-secret part (provider kinds, from-address, SMTP host) is kept readable in
-- `settings`; the secrets are one JSON document sealed with AES-256-GCM under
-- CAREOPS_SECRET_KEY (service_runtime::secrets::SecretBox, bound to the workspace id), opened
-- only by the notifier when it sends. The change itself is recorded as an
-- `IntegrationsChanged` event without any secret, written in the same transaction.
create table workspace_integrations (
    workspace_id   uuid primary key,
    settings       jsonb not null,
    secrets_nonce  bytea not null,
    secrets_sealed bytea not null,
    updated_at     timestamptz not null default now()
);

comment on table workspace_integrations is
    'Per-workspace email/SMS providers; secrets sealed under CAREOPS_SECRET_KEY, never in events.';

-- Read models and their reader role have no business with provider secrets.
revoke all on workspace_integrations from public;
