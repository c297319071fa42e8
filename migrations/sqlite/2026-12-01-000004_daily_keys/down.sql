DROP TABLE daily_keys;
