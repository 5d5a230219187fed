//! T1 at rest on SQLite: after sends, resends, keyed sends, bulk sends, dispatch and
//! accepts, no raw token appears anywhere in the database file or its WAL; and every
//! token waiting in the outbox is sealed with a nonce of its own.
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
    let contains = |bytes: &[u8], needle: &[u8]| memchr::memmem::find(bytes, needle).is_some();
    assert!(
        files.iter().any(|(_, b)| contains(b, b"t0@example.com")),
        "the scan reads the stored rows"
    );
    let mut found = 0;
    for token in &tokens {
        for (name, bytes) in &files {
            if contains(bytes, token.as_bytes()) {
                eprintln!("raw token found in {name:?}");
                found += 1;
            }
        }
    }
    assert_eq!(found, 0, "raw tokens at rest");
}

/// The outbox keeps each token sealed with its own nonce: nonces come from blocks of
/// random bytes (16 per draw), and no two seals may share one (XChaCha20-Poly1305 with
/// one key). 40 sends seal across three blocks.
#[test]
fn every_sealed_token_has_a_nonce_of_its_own() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const NONCE_LEN: usize = 24;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nonces.sqlite");
    let store = invite_core::store::open(&format!("sqlite:{}", path.display())).unwrap();
    let w = common::World::with_config(store, common::config(), Some(500));
    for i in 0..40 {
        w.service
            .send(&w.invite_new("N", "N", &format!("n{i}@example.com")))
            .unwrap();
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mut select = conn
        .prepare("SELECT sealed_token FROM outbox WHERE sealed_token IS NOT NULL")
        .unwrap();
    let nonces: Vec<Vec<u8>> = select
        .query_map([], |row| row.get::<_, String>(0))
        .unwrap()
        .map(|sealed| {
            let bytes = URL_SAFE_NO_PAD.decode(sealed.unwrap()).unwrap();
            bytes[..NONCE_LEN].to_vec()
        })
        .collect();
    assert_eq!(nonces.len(), 40, "one sealed token per queued email");
    let distinct: std::collections::HashSet<_> = nonces.iter().collect();
    assert_eq!(distinct.len(), nonces.len(), "a nonce was used twice");
}
