-- Kept in step with migrations/sqlite: same tables, columns, constraints and indexes.
-- Statuses are plain text checked by the domain types, so later issues can add states without
-- rebuilding tables; values with a closed set (how two people met, staff roles) are checked here too.

CREATE TABLE users (
    id SERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'moderator', 'editor')),
    password_hash TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE guides (
    id SERIAL PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    body_markdown TEXT NOT NULL,
    body_html TEXT NOT NULL,
    toc_json TEXT NOT NULL,
    status TEXT NOT NULL,
    author_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    author_name TEXT NOT NULL,
    published_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX guides_by_status_published ON guides (status, published_at);

CREATE TABLE stories (
    id SERIAL PRIMARY KEY,
    public_id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    body_markdown TEXT NOT NULL,
    body_html TEXT NOT NULL,
    excerpt TEXT NOT NULL,
    pen_name TEXT NOT NULL,
    length_months INTEGER NOT NULL CHECK (length_months >= 0),
    how_met TEXT NOT NULL CHECK (how_met IN ('hobby', 'workplace', 'app', 'friends', 'other')),
    continuing BOOLEAN NOT NULL,
    rules TEXT NOT NULL,
    status TEXT NOT NULL,
    submitted_at TIMESTAMP NOT NULL,
    published_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX stories_by_status_published ON stories (status, published_at);
CREATE INDEX stories_by_status_length ON stories (status, length_months);
CREATE INDEX stories_by_status_how_met ON stories (status, how_met, published_at);

CREATE TABLE tags (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE guide_tags (
    guide_id INTEGER NOT NULL REFERENCES guides (id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (guide_id, tag_id)
);
CREATE INDEX guide_tags_by_tag ON guide_tags (tag_id);

CREATE TABLE story_tags (
    story_id INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (story_id, tag_id)
);
CREATE INDEX story_tags_by_tag ON story_tags (tag_id);
