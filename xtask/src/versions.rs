//! One pin for everything that must agree. Change a version here and every backend follows.

/// Apache Kafka: broker, CLI tools and Kafka Connect (Debezium 3.6.1 is built against Kafka 4.3).
pub const KAFKA: &str = "4.3.1";
/// Debezium connectors: the MariaDB source and the JDBC sink.
pub const DEBEZIUM: &str = "3.6.1.Final";

/// Container images of the `docker` backend, on the same versions as the `local` one.
pub const KAFKA_IMAGE: (&str, &str) = ("apache/kafka", KAFKA);
pub const MARIADB_IMAGE: (&str, &str) = ("mariadb", "11.4");
/// Built from docker/connect/Dockerfile: Kafka Connect with the same plugins as the local worker.
pub const CONNECT_IMAGE: (&str, &str) = ("kafka-workbook/connect", KAFKA);

/// Connector classes the Connect worker must list before it counts as ready.
pub const MARIADB_SOURCE_CLASS: &str = "io.debezium.connector.mariadb.MariaDbConnector";
pub const JDBC_SINK_CLASS: &str = "io.debezium.connector.jdbc.JdbcSinkConnector";
pub const FILE_SOURCE_CLASS: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";
pub const FILE_SINK_CLASS: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";
pub const REQUIRED_PLUGINS: [&str; 4] = [MARIADB_SOURCE_CLASS, JDBC_SINK_CLASS, FILE_SOURCE_CLASS, FILE_SINK_CLASS];
