-- Kept in step with the other backend's migration. One counted report per reader per story: a
-- keyed hash of the day, the reader's network and the story (never the address), forgotten
-- after two days; and whether a moderator found the reports unfounded, after which the same
-- readers' reports on that story no longer count.
ALTER TABLE reports ADD COLUMN reader_hash TEXT;
ALTER TABLE reports ADD COLUMN unfounded BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX reports_by_reader ON reports (story_id, reader_hash);
