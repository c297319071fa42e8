-- Kept in step with the other backend's migration. An editors' change to a story is logged one
-- row per field it changed, so that the submitter's status page can say which fields the
-- editors changed; the row names the field, never what it said.
ALTER TABLE mod_actions ADD COLUMN field TEXT;
