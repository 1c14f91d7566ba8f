-- Chapter 08's first migration: a table with a primary key (CDC and upserts need one) in utf8mb4
-- (MariaDB's real UTF-8; `utf8`/latin1 cannot store every Korean text or emoji).
CREATE TABLE IF NOT EXISTS ch08_customers (
    id         BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    email      VARCHAR(255) NOT NULL,
    name       VARCHAR(100) NOT NULL,
    created_at DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    UNIQUE KEY uq_ch08_customers_email (email)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
