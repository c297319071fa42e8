-- Kept in step with the other backend's migration. Words that search treats as one (恋人・
-- パートナー・相手), kept by the editors and applied when a query is read, so a change needs no
-- reindex. `words` holds the group's words joined by ・, as the editors wrote them.
CREATE TABLE synonym_groups (
    id SERIAL PRIMARY KEY,
    words TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
