-- Kept in step with migrations/postgres. Erasures whose physical clean-up has not run yet: the
-- SQLite WAL checkpoint, the PostgreSQL table rewrite, mail files naming the story. A row holds
-- no text and no time; it is deleted once the clean-up is done.
CREATE TABLE erasures (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    -- What held the removed text: 'story' (a story's rows and the mail about it) or 'address'
    -- (a mail's or a subscription's address); PostgreSQL rewrites only those tables.
    holds TEXT NOT NULL CHECK (holds IN ('story', 'address')),
    story_public_id TEXT,
    -- PostgreSQL only: the erasing transaction, so the rewrite waits for older snapshots.
    xid BIGINT
);
