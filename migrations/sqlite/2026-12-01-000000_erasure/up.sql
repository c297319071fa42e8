-- Kept in step with migrations/postgres. Erasures whose physical clean-up has not run yet: the
-- SQLite WAL checkpoint, the PostgreSQL table rewrite, mail files naming the story. A row holds
-- no text and no time; it is deleted once the clean-up is done.
CREATE TABLE erasures (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    story_public_id TEXT,
    -- PostgreSQL only: the erasing transaction, so the rewrite waits for older snapshots.
    xid BIGINT
);
