-- A second migration: schema changes are new files, never edits of applied ones (sqlx checks their checksums).
ALTER TABLE ch08_customers ADD COLUMN tier VARCHAR(20) NOT NULL DEFAULT 'basic';
