DROP INDEX reports_by_reader;
ALTER TABLE reports DROP COLUMN unfounded;
ALTER TABLE reports DROP COLUMN reader_hash;
