-- Kept in step with the other backend's migration. Every node asks the outbox, several times a
-- second, for the newest content event and for the content events after the one it applied.
-- With only (topic, delivered_at, next_attempt_at) to go by, each question read every event of
-- the topic: at a million stories an idle node spent most of a core on them. By topic, then id,
-- each is a lookup at the end of its topic's range.
CREATE INDEX outbox_by_topic ON outbox (topic, id);
