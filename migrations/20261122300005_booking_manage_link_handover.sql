-- The customer's manage/cancel link in the booking confirmation email.
--
-- A booking's manage token is a capability (it cancels the booking through
-- POST /api/v1/public/bookings/{id}/cancel), so only its sha-256 is kept for checking it.
-- The confirmation email needs the token itself: like an invited staff member's password
-- and a form request's link, it is handed over to the notifier sealed with AES-256-GCM
-- under CAREOPS_SECRET_KEY (bound to the booking id), in the same transaction as the
-- booking's events, and the notifier takes it once (service_runtime::manage_tokens),
-- which clears the sealed copy. It never enters an event or a log line.
alter table booking_manage_tokens
    add column workspace_id uuid,
    add column nonce        bytea,
    add column sealed_token bytea,
    add constraint booking_manage_tokens_sealed_whole check ((nonce is null) = (sealed_token is null));

comment on column booking_manage_tokens.sealed_token is
    'The manage token sealed for the notifier until it takes it once for the confirmation email';
