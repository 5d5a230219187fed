#![cfg(feature = "sqlite")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! A store opened by a relative path keeps using that file after the process changes
//! its working directory: its pools open connections later, on demand. (One test in a
//! binary of its own: it changes the process's working directory.)

use std::sync::Arc;
use std::thread;

use invite_core::InviteService;

#[test]
fn a_relative_path_keeps_naming_the_file_it_opened() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::env::set_current_dir(dir.path()).unwrap();
    let store = invite_core::store::open("sqlite:relative.db").unwrap();
    let service = Arc::new(InviteService::builder(store).build().unwrap());
    service.create_business("Acme").unwrap();
    std::env::set_current_dir(&elsewhere).unwrap();
    // Readers at once: the pool opens new connections now, from `elsewhere`.
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let service = Arc::clone(&service);
            thread::spawn(move || service.list_businesses().map(|b| b.len()))
        })
        .collect();
    for reader in readers {
        assert_eq!(reader.join().unwrap().unwrap(), 1);
    }
    // And a write after a reopen of the writer would go to the same file.
    service.create_business("Globex").unwrap();
    assert_eq!(service.list_businesses().unwrap().len(), 2);
    assert!(
        !elsewhere.join("relative.db").exists(),
        "no second, empty database"
    );
}
