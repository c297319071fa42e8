-- Kept in step with migrations/sqlite. Email subscriptions (double opt-in, digests).
CREATE TABLE subscriptions (
    id SERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    want_guides BOOLEAN NOT NULL,
    want_stories BOOLEAN NOT NULL,
    tag TEXT,
    created_at TIMESTAMP NOT NULL,
    -- Nothing but the confirmation mail goes to an address until this is set.
    confirmed_at TIMESTAMP,
    -- The newest item the last digest covered up to.
    digest_until TIMESTAMP
);
