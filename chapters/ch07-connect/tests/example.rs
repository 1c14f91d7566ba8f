//! The chapter's example runs to completion against the real worker.

use workbook_support::example;

const PROGRAM: &str = env!("CARGO_BIN_EXE_ch07-connect");

#[test]
fn pipeline_runs_end_to_end() {
    let stdout = example::run(PROGRAM, &["pipeline"]);
    assert!(stdout.contains("FileStreamSourceConnector"), "{stdout}");
    assert!(
        stdout.contains(r#"3 lines arrived"#)
            && stdout.contains(r#"["hello", "kafka", "connect"]"#),
        "{stdout}"
    );
    assert!(stdout.contains("PAUSED") && stdout.contains("resumed: the 4th line"), "{stdout}");
    assert!(stdout.contains(r#"topic: Missing required configuration "topic""#), "{stdout}");
    assert!(stdout.contains("400 Bad Request"), "{stdout}");
    assert!(stdout.contains("0 connectors left of ours"), "{stdout}");
}

#[test]
fn standalone_writes_the_three_files() {
    // The worker reads these files where Connect runs: inside the directory it shares with us.
    let env = workbook_support::Env::load().unwrap();
    std::fs::create_dir_all(&env.files_dir).unwrap();
    let dir = tempfile::tempdir_in(&env.files_dir).unwrap();
    let dir_arg = dir.path().to_str().unwrap();
    let stdout =
        example::run(PROGRAM, &["standalone", "--dir", dir_arg, "--plugin-path", "/opt/plugins"]);
    let worker = std::fs::read_to_string(dir.path().join("worker.properties")).unwrap();
    assert!(
        worker.contains("plugin.path=/opt/plugins")
            && worker.contains("listeners=http://127.0.0.1:"),
        "{worker}"
    );
    assert!(worker.contains("offset.storage.file.filename="), "{worker}");
    assert!(
        worker.contains(&format!("bootstrap.servers={}", env.connect_bootstrap_servers)),
        "{worker}"
    );
    let connect_dir = env.connect_path(dir.path()).unwrap();
    let source = std::fs::read_to_string(dir.path().join("file-source.properties")).unwrap();
    assert!(
        source.contains(&format!("file={connect_dir}/input.txt")),
        "the worker's view of the file: {source}"
    );
    let sink = std::fs::read_to_string(dir.path().join("file-sink.properties")).unwrap();
    assert!(sink.contains("topics=ch07-standalone-lines"), "{sink}");
    assert!(stdout.contains("cargo xtask cli connect-standalone"), "{stdout}");
}
