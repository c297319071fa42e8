-- Kept in step with migrations/sqlite. The editorial workflow for guides.

-- When a scheduled guide goes public (UTC).
ALTER TABLE guides ADD COLUMN scheduled_at TIMESTAMP;
ALTER TABLE guides ADD COLUMN category TEXT NOT NULL DEFAULT '';
-- Raised by every save; a save names the version it started from (optimistic locking).
ALTER TABLE guides ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE guides ADD COLUMN featured_on_home BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX guides_by_status_scheduled ON guides (status, scheduled_at);

-- Every save of a guide, whole, with who made it.
CREATE TABLE guide_revisions (
    id SERIAL PRIMARY KEY,
    guide_id INTEGER NOT NULL REFERENCES guides (id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    title TEXT NOT NULL,
    slug TEXT NOT NULL,
    summary TEXT NOT NULL,
    body_markdown TEXT NOT NULL,
    tags TEXT NOT NULL,
    category TEXT NOT NULL,
    author_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    author_label TEXT NOT NULL,
    note TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX guide_revisions_by_version ON guide_revisions (guide_id, version);

-- Old addresses that answer 301 to a guide's current one (renamed slugs, imported permalinks).
CREATE TABLE redirects (
    from_path TEXT PRIMARY KEY NOT NULL,
    guide_id INTEGER NOT NULL REFERENCES guides (id) ON DELETE CASCADE
);

-- Approved stories an editor shows on a guide, in order.
CREATE TABLE featured_stories (
    guide_id INTEGER NOT NULL REFERENCES guides (id) ON DELETE CASCADE,
    story_id INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    PRIMARY KEY (guide_id, story_id)
);
