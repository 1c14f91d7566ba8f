# Creates the user the Debezium MariaDB source connector logs in as (chapter 09).
#
# The mariadb image runs this once, when it initialises an empty data directory. It is *sourced*
# (this file must not be executable), so it can use the entrypoint's docker_process_sql, which
# talks to the not-yet-public server as root. CDC_USER and CDC_PASSWORD come from the container's
# environment (`cargo xtask up` generates the password; see docker/compose.yaml by hand).
#
# Change data capture reads the binary log like a replica does, hence the replication grants;
# SELECT, RELOAD and SHOW DATABASES let the connector take its first snapshot of the tables.
docker_process_sql <<EOSQL
CREATE USER '${CDC_USER}'@'%' IDENTIFIED BY '${CDC_PASSWORD}';
GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '${CDC_USER}'@'%';
EOSQL
