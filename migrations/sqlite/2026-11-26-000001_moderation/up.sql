-- Kept in step with migrations/postgres. Submission, moderation, staff sessions, reports, outbox.

-- Only the SHA-256 of a receipt code is kept; the code itself is shown once to the submitter.
ALTER TABLE stories ADD COLUMN receipt_hash TEXT;
-- Optional address to tell the submitter the decision; cleared when the decision mail is queued.
ALTER TABLE stories ADD COLUMN contact_email TEXT;
-- What the moderator told the submitter (a change request or the reason for a rejection).
ALTER TABLE stories ADD COLUMN moderator_message TEXT;
-- JSON list of the personal-information findings the submitter confirmed.
ALTER TABLE stories ADD COLUMN pii_flags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE stories ADD COLUMN edited_by_staff BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE stories ADD COLUMN claimed_by INTEGER REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE stories ADD COLUMN claimed_until TIMESTAMP;
CREATE UNIQUE INDEX stories_by_receipt_hash ON stories (receipt_hash);
CREATE INDEX stories_by_status_submitted ON stories (status, submitted_at);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Failed logins per hashed e-mail address, whether or not an account has that address.
CREATE TABLE login_throttle (
    key_hash TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    window_start TIMESTAMP NOT NULL,
    locked_until TIMESTAMP
);

-- One row per moderation event. Rows outlive the story and the staff account they name.
CREATE TABLE mod_actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind TEXT NOT NULL,
    story_id INTEGER REFERENCES stories (id) ON DELETE SET NULL,
    story_public_id TEXT NOT NULL,
    actor_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    actor_label TEXT NOT NULL,
    reason TEXT,
    note TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX mod_actions_by_time ON mod_actions (created_at);
CREATE INDEX mod_actions_by_story ON mod_actions (story_id);

CREATE TABLE reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    story_id INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    resolved_at TIMESTAMP
);
CREATE INDEX reports_by_story ON reports (story_id, resolved_at);

-- Events written in the same transaction as the change they announce. Mail rows are delivered
-- once (delivered_at); other topics are read by every node in id order.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP,
    last_error TEXT
);
CREATE INDEX outbox_by_delivery ON outbox (topic, delivered_at, next_attempt_at);
