DROP INDEX outbox_by_topic;
