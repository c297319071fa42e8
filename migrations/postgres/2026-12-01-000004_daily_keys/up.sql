-- Kept in step with the other backend's migration. Random keys, one per day, shared by every
-- node: the hashes that count login failures and readers' reports are made with them, and a
-- key is deleted two days after its day, after which nothing can tell whose network a stored
-- hash was (the site's own key would let anyone holding it try every address).
CREATE TABLE daily_keys (
    day TEXT PRIMARY KEY NOT NULL,
    key TEXT NOT NULL
);
