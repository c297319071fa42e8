-- Kept in step with migrations/sqlite. Erasures whose physical clean-up has not run yet: the
-- SQLite WAL checkpoint, the PostgreSQL table rewrite, mail files naming the story. A row holds
-- no text and no time; it is deleted once the clean-up is done.
CREATE TABLE erasures (
    id SERIAL PRIMARY KEY,
    -- What held the removed text: 'story' (a story's rows and the mail about it) or 'address'
    -- (a mail's or a subscription's address); PostgreSQL rewrites only those tables.
    holds TEXT NOT NULL CHECK (holds IN ('story', 'address')),
    story_public_id TEXT,
    -- The erasing transaction: VACUUM FULL keeps row versions that an older snapshot can still
    -- see, so the rewrite waits until no snapshot is that old.
    xid BIGINT DEFAULT txid_current()
);
