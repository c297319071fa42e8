ALTER TABLE stories DROP COLUMN facts_set;
