-- Idempotency records: credentials never stored in clear, and claims that can go stale.
--
-- A response that hands out credentials (login, refresh and onboarding tokens, a public
-- booking's manage token) is now stored sealed: `body` holds the AES-256-GCM ciphertext
-- under CAREOPS_SECRET_KEY and `body_nonce` its nonce (null: `body` is in clear).
alter table idempotency_records add column body_nonce bytea;

-- The request that holds the key. A claim left in progress by a request that never finished
-- (the process died) may be taken over by a retry after a timeout; the late original then
-- must not overwrite the retry's record, so writes after the claim name it.
alter table idempotency_records add column claim_id uuid;

-- `request_hash` becomes a keyed digest (HMAC-SHA256), not a plain SHA-256 of the body
-- (a login body holds a password). Records kept so far hold the old hashes and, for logins,
-- refreshes and onboardings, tokens in clear: they are a 24-hour replay cache, so they go.
delete from idempotency_records;
