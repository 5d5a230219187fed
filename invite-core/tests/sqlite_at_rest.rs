//! T1 at rest on SQLite: after sends, resends, keyed sends, bulk sends, dispatch and
//! accepts, no raw token appears anywhere in the database file or its WAL.
#![cfg(feature = "sqlite")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;

/// Every raw token the run produced, and the bytes of every file of the database.
#[test]
fn no_raw_token_is_stored_anywhere_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("at-rest.sqlite");
    let store = invite_core::store::open(&format!("sqlite:{}", path.display())).unwrap();
    let w = common::World::with_config(store, common::config(), Some(500));
    let tokens = w.mint_tokens_every_way(50);
    assert_eq!(tokens.len(), 110);

    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let entry = entry.unwrap();
        files.push((entry.file_name(), std::fs::read(entry.path()).unwrap()));
    }
    let needle = b"t0@example.com";
    assert!(
        files
            .iter()
            .any(|(_, b)| b.windows(needle.len()).any(|w| w == needle)),
        "the scan reads the stored rows"
    );
    let mut found = 0;
    for token in &tokens {
        for (name, bytes) in &files {
            if bytes
                .windows(token.len())
                .any(|window| window == token.as_bytes())
            {
                eprintln!("raw token found in {name:?}");
                found += 1;
            }
        }
    }
    assert_eq!(found, 0, "raw tokens at rest");
}
