DROP TABLE story_bands;
ALTER TABLE stories DROP COLUMN minhash;
