-- Kept in step with the other backend's migration. The moderators' alerts, batched: how many
-- items entered the queue (new, resubmitted, hidden by reports) since the last alert, and when
-- the last alert and the last reminder went. One row; it names no story and holds no time of
-- any submission.
CREATE TABLE moderator_alerts (
    id INTEGER PRIMARY KEY NOT NULL,
    arrivals INTEGER NOT NULL DEFAULT 0,
    alerted_at TIMESTAMP,
    reminded_at TIMESTAMP
);
INSERT INTO moderator_alerts (id, arrivals) VALUES (1, 0);
