-- Kept in step with migrations/sqlite. Staff are managed in the panel: the audit log also
-- records actions on staff accounts and on guides ('subject': 'staff:<user id>' or
-- 'guide:<slug>'; story rows leave it empty), and one-time links invite a new staff member or
-- let one set a new password. A link is stored only as the SHA-256 of its token, so the
-- database alone cannot be used to sign in.
ALTER TABLE mod_actions ADD COLUMN subject TEXT;

CREATE TABLE staff_links (
    id SERIAL PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    purpose TEXT NOT NULL CHECK (purpose IN ('invite', 'reset')),
    -- A reset names its account; an invitation, the account it will create.
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    email TEXT,
    display_name TEXT,
    role TEXT CHECK (role IS NULL OR role IN ('admin', 'moderator', 'editor')),
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);

-- A guide's byline (author_name) is chosen by its editors, by default 編集部; it used to be the
-- editor's account name, which defaulted to their address's local part and could name a real
-- person. Guides written through the panel go back to the default; editors may choose again.
UPDATE guides SET author_name = '編集部' WHERE author_id IS NOT NULL;
