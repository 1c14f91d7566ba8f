//! The chapter's example, run as the book shows it, once per kind of change.

use workbook_support::example;

fn run(args: &[&str]) -> String {
    example::run(env!("CARGO_BIN_EXE_ch17-schema-change"), args)
}

fn has(stdout: &str, text: &str) {
    assert!(stdout.contains(text), "expected {text:?} in:\n{stdout}");
}

#[test]
fn additive_changes_flow_and_a_dropped_column_fails_the_sink_until_the_copy_allows_it() {
    let stdout = run(&[]);
    // The event after each ALTER carries the new field; the sink adds the column.
    has(&stdout, "nickname   string optional");
    has(&stdout, "plan       string default=\"free\"");
    // The schema history topic holds the source table's DDL, the ALTERs included.
    has(&stdout, "ADD COLUMN plan VARCHAR(20) NOT NULL DEFAULT 'free'");
    has(&stdout, "`nickname` longtext DEFAULT NULL");
    // The sink's ALTER gives the TEXT column no DEFAULT: old rows differ between source and copy.
    has(&stdout, "`plan` longtext NOT NULL,");
    has(&stdout, "source ('1', 'free')   copy ('1', '')");
    // Added to the copy first, with its DEFAULT, the same kind of column needs no repair.
    has(&stdout, "`tier` varchar(10) NOT NULL DEFAULT 'basic'");
    // A dropped NOT NULL column fails the task; relaxing it in the copy and restarting loses
    // nothing.
    has(&stdout, "task 0 FAILED");
    has(&stdout, "Field 'email' doesn't have a default value");
    has(&stdout, "`email` longtext DEFAULT NULL");
    assert_eq!(stdout.matches("the sink applied it").count(), 4, "{stdout}");
}

#[test]
fn a_rename_fails_the_sink_until_the_copy_is_renamed_too() {
    let stdout = run(&["--breaking", "rename"]);
    has(&stdout, "field 'full_name' is not optional but has no default value");
    has(&stdout, "`full_name` longtext NOT NULL");
}

#[test]
fn a_type_change_fails_on_the_first_value_that_does_not_fit() {
    let stdout = run(&["--breaking", "type"]);
    has(&stdout, "score      string optional");
    has(&stdout, "Incorrect integer value: 'gold'");
    has(&stdout, "`score` longtext DEFAULT NULL");
}

#[test]
fn without_schema_evolution_the_first_new_column_fails_the_sink() {
    let stdout = run(&["--evolution", "none"]);
    has(&stdout, "because schema evolution is disabled");
    has(&stdout, "the sink applied it");
}
