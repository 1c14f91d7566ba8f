//! The chapter's example runs to completion against the real MariaDB.

use workbook_support::example;

#[test]
fn example_shows_the_account_migrations_and_refusals() {
    let stdout = example::run(env!("CARGO_BIN_EXE_ch08-mariadb"), &[]);
    assert!(stdout.contains("CURRENT_USER()  workbook@"), "{stdout}");
    assert!(stdout.contains("GRANT ALL PRIVILEGES ON `mydb`.*"), "{stdout}");
    assert!(
        stdout.contains("applied  801  create customers") && stdout.contains("applied  802"),
        "{stdout}"
    );
    assert!(stdout.contains("김민수"), "{stdout}");
    assert!(stdout.contains("ERROR 1045 (28000): Access denied for user 'workbook'"), "{stdout}");
    assert!(stdout.contains("ERROR 1142") && stdout.contains("ERROR 1044"), "{stdout}");
    assert!(
        !stdout.contains("IDENTIFIED BY PASSWORD '*") || stdout.contains("'*…'"),
        "hash hidden: {stdout}"
    );
}
