DROP TABLE moderator_alerts;
