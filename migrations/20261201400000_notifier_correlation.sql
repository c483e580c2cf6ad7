-- A notification remembers the request its cause came from (the cause event's correlation
-- id), so the NotificationSent / NotificationFailed / ReminderSent events it records carry
-- it and an owner can follow one request to every message it sent. Rows planned before this
-- migration have none.
alter table notifier.notifications add column correlation_id text;
