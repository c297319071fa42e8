ALTER TABLE mod_actions DROP COLUMN field;
