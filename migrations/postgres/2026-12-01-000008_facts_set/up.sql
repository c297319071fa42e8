-- Kept in step with migrations/sqlite. Whether a story's structured facts (how long, how they
-- met, whether it continues) were told: stories imported from WordPress come without them and
-- are marked 情報未設定 for moderators, with no facts shown to readers, until a moderator sets
-- them. Stories imported from WordPress before this column existed are recognised by what that
-- import wrote: no receipt, 0 months, "other", continuing.
ALTER TABLE stories ADD COLUMN facts_set BOOLEAN NOT NULL DEFAULT TRUE;
UPDATE stories SET facts_set = FALSE
WHERE receipt_hash IS NULL AND length_months = 0 AND how_met = 'other' AND continuing = TRUE;
