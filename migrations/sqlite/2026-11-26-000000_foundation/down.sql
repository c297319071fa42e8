DROP TABLE story_tags;
DROP TABLE guide_tags;
DROP TABLE tags;
DROP TABLE stories;
DROP TABLE guides;
DROP TABLE users;
