//! One pin for everything that must agree. Change a version here and every backend follows.

/// Apache Kafka: broker, CLI tools and Kafka Connect (Debezium 3.6.1 is built against Kafka 4.3).
pub const KAFKA: &str = "4.3.1";
/// Debezium connectors: the MariaDB source and the JDBC sink. Debezium 3.6.1.Final is the one
/// built against Kafka 4.3, but Maven Central serves the MariaDB source only up to 3.5.0.Final and
/// the JDBC sink up to 3.6.0.Final, so those are used (each plugin has its own class loader).
/// xtask/runtime/pom.xml and docker/connect/Dockerfile must say the same (a test checks).
pub const DEBEZIUM_MARIADB: &str = "3.5.0.Final";
pub const DEBEZIUM_JDBC: &str = "3.6.0.Final";

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
