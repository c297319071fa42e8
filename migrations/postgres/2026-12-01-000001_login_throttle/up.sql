-- Kept in step with the other backend's migration. Failed logins are throttled per account and
-- client, and per client, with a growing wait instead of a lock: the keys are keyed hashes of the
-- day, the typed address and the client's network (never stored raw), so an outsider's failures
-- never hold back the owner signing in from their own network.
DROP TABLE login_throttle;
CREATE TABLE login_throttle (
    key_hash TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    last_failure TIMESTAMP NOT NULL
);
CREATE INDEX login_throttle_by_time ON login_throttle (last_failure);

-- What admins see of failed logins on an account: how many and when the last was, no addresses.
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_failed_login_at TIMESTAMP;
