-- The order service's own table. `{orders}` is this instance's name for it (see `Tables` in
-- src/schema.rs).
CREATE TABLE {orders} (
    -- a UUID made by the service: unique across every instance
    order_id    CHAR(36)    NOT NULL PRIMARY KEY,
    user_id     VARCHAR(64) NOT NULL,
    product_id  VARCHAR(64) NOT NULL,
    qty         INT         NOT NULL,
    unit_price  BIGINT      NOT NULL,
    total_price BIGINT      NOT NULL,
    created_at  DATETIME(6) NOT NULL,              -- UTC, set by the INSERT
    INDEX by_user (user_id, created_at)
) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
