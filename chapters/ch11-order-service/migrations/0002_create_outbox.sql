-- The transactional outbox: one row per event, written in the same transaction as the change it
-- announces.
-- Column names are the ones Debezium's outbox EventRouter reads by default.
CREATE TABLE {outbox} (
    id            CHAR(36)     NOT NULL PRIMARY KEY, -- the event id: consumers deduplicate on it
    aggregatetype VARCHAR(255) NOT NULL,             -- what changed ('order'): picks the topic
    aggregateid   VARCHAR(255) NOT NULL,             -- which one (the order id): the record key
    type          VARCHAR(255) NOT NULL,             -- OrderCreated, OrderCancelled, ...
    payload       LONGTEXT     NOT NULL,             -- the event body, JSON
    created_at    DATETIME(6)  NOT NULL
) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
