DROP TABLE synonym_groups;
