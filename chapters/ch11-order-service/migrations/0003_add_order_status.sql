-- A later change to the schema: orders can be cancelled. Migrations only ever add steps; the ones
-- already applied are recorded (with a checksum) in this instance's migrations table and never run
-- twice.
ALTER TABLE {orders} ADD COLUMN status VARCHAR(16) NOT NULL DEFAULT 'CREATED' AFTER total_price;
