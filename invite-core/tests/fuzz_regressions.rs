//! Replays every saved fuzz input under `fuzz/regressions/<target>/` through the same
//! checks the fuzz targets run (`fuzz/src/checks.rs`), so `cargo test` covers past
//! crashes without cargo-fuzz; plus a few hand-picked hostile inputs per target.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

#[path = "../../fuzz/src/checks.rs"]
mod checks;

use std::path::{Path, PathBuf};

fn regressions() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions")
}

/// Files of one target's regression folder (dot files, such as `.gitkeep`, skipped).
fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = regressions().join(target);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    };
    files.retain(|p| {
        p.is_file()
            && !p
                .file_name()
                .and_then(|n| n.to_str())
                .is_none_or(|n| n.starts_with('.') || n.ends_with(".md"))
    });
    files.sort();
    files
}

/// Replays a target's saved inputs. A file whose name starts with `open-` is a bug
/// found but not fixed yet (in code this suite does not own): it must still fail, and
/// once it passes this test asks for the `open-` prefix to be dropped, so the fix is
/// then guarded like every other regression.
fn replay_all(target: &str) -> usize {
    let files = inputs(target);
    for file in &files {
        let data = std::fs::read(file).unwrap();
        let open = file
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("open-"));
        let outcome = std::panic::catch_unwind(|| assert!(checks::replay(target, &data)));
        if open {
            assert!(
                outcome.is_err(),
                "{} passes now: the bug is fixed, drop the `open-` prefix",
                file.display()
            );
        } else {
            assert!(outcome.is_ok(), "regression {} fails again", file.display());
        }
    }
    files.len()
}

#[test]
fn every_regression_folder_is_a_known_target() {
    let Ok(entries) = std::fs::read_dir(regressions()) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            assert!(
                checks::TARGETS.contains(&name.as_str()),
                "unknown target folder {name}"
            );
        }
    }
}

#[test]
fn email_regressions() {
    replay_all("email");
    for raw in [
        "",
        " Ann.Lee@Example.COM ",
        "a@bücher.example",
        "\u{212A}im@x.com",
        "ｍｉｋｅ@x.com",
        "⑴@x.com",
        "\"a b\"@x.com",
        "a@b@c.com",
        "a@xn--.com",
        "a@-x.com",
        &format!("{}@x.com", "a".repeat(64)),
        &format!("a@{}.com", "b".repeat(250)),
    ] {
        for policy in [0u8, 1] {
            let mut data = vec![policy];
            data.extend_from_slice(raw.as_bytes());
            checks::email(&data);
        }
    }
}

#[test]
fn name_regressions() {
    replay_all("name");
    for raw in [
        "",
        "  Zoe\u{0308} ",
        "A\r\nB",
        "A\u{2028}B",
        "A\u{85}B",
        "\u{202E}x",
        "=?utf-8?q?x?=",
        "\u{2000}x\u{2000}",
        &"é".repeat(100),
        &"e\u{301}".repeat(100),
        &"é".repeat(101),
    ] {
        checks::name(raw.as_bytes());
    }
    checks::name(&[0xff, 0xfe, b'A']);
}

#[test]
fn token_regressions() {
    replay_all("token");
    for raw in [
        "",
        &"A".repeat(43),
        &"A".repeat(42),
        &"_".repeat(43),
        &format!(" {} ", "A".repeat(43)),
        &format!("{}B", "A".repeat(42)),
        &"A".repeat(10_000),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    ] {
        checks::token(raw.as_bytes());
    }
}

#[test]
fn send_request_regressions() {
    replay_all("send_request");
    use checks::{Pick, SendInput, Text};
    // Complete valid requests (indexes into the catalog: business 0, app 2,
    // subscription 4, role 8), then the same with hostile names and bad fields.
    let valid = SendInput {
        inviter: 0,
        user: Pick::Absent,
        new_user: Some((Text::Sample(0), Text::Sample(1), Text::Sample(2))),
        business: Pick::Known(0),
        app: Pick::Known(2),
        subscription: Pick::Known(4),
        role: Pick::Known(8),
        expires_in_seconds: None,
        locale: Some(Text::Sample(5)),
        idempotency_key: Some(Text::Raw("key-1".into())),
        twice: true,
    };
    checks::send_request(&valid);
    for sample in 0..=checks::SAMPLES.len() as u8 {
        let hostile = SendInput {
            new_user: Some((Text::Sample(sample), Text::Sample(sample), Text::Sample(2))),
            ..valid.clone()
        };
        checks::send_request(&hostile);
    }
    let everything_wrong = SendInput {
        inviter: 3,
        user: Pick::Raw(Text::Raw("not-a-uuid".into())),
        new_user: Some((Text::Sample(7), Text::Sample(18), Text::Sample(16))),
        business: Pick::Known(1),
        app: Pick::Unknown(5),
        subscription: Pick::Known(6),
        role: Pick::Known(11),
        expires_in_seconds: Some(i64::MIN),
        locale: Some(Text::Raw("x".repeat(40))),
        idempotency_key: Some(Text::Raw(String::new())),
        twice: false,
    };
    checks::send_request(&everything_wrong);
}

#[test]
fn render_regressions() {
    replay_all("render");
    use checks::{RenderInput, Text};
    for sample in 0..=checks::SAMPLES.len() as u8 {
        for locale in [None, Some(Text::Sample(5)), Some(Text::Sample(6))] {
            let input = RenderInput {
                inviter: Text::Sample(sample),
                invitee: Some(Text::Sample(sample)),
                business: Text::Sample(sample),
                app: Text::Sample(sample),
                role: Text::Sample(sample),
                expires_at: i64::MAX,
                link: Text::Sample(sample),
                locale,
                to: Text::Sample(sample),
                message_id: u128::from(sample),
                custom: None,
            };
            checks::render(&input);
            checks::render(&RenderInput {
                custom: Some((
                    Text::Sample(sample),
                    Text::Sample(sample),
                    Text::Sample(sample),
                )),
                to: Text::Sample(3),
                ..input
            });
        }
    }
}
