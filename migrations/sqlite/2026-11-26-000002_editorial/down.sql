DROP TABLE featured_stories;
DROP TABLE redirects;
DROP TABLE guide_revisions;
DROP INDEX guides_by_status_scheduled;
ALTER TABLE guides DROP COLUMN featured_on_home;
ALTER TABLE guides DROP COLUMN version;
ALTER TABLE guides DROP COLUMN category;
ALTER TABLE guides DROP COLUMN scheduled_at;
