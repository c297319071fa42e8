DROP TABLE staff_links;
ALTER TABLE mod_actions DROP COLUMN subject;
