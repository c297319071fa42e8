-- Kept in step with the other backend's migration. Near-duplicate detection: a story's MinHash
-- signature (64 values of its character trigrams: not its text, and erased with it), and the
-- signature's 16 bands, indexed so that stories sharing a band are found without comparing all.
ALTER TABLE stories ADD COLUMN minhash BLOB;
CREATE TABLE story_bands (
    story_id INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    band INTEGER NOT NULL,
    bucket BIGINT NOT NULL,
    PRIMARY KEY (story_id, band)
);
CREATE INDEX story_bands_by_bucket ON story_bands (band, bucket);
