//! Command-line flags and environment variables.

use std::time::Duration;

/// Default port when neither `--port` nor `INVITE_PAGE_PORT` is given.
pub const DEFAULT_PORT: u16 = 8080;
/// Default store: an embedded SQLite file in the working directory (git-ignored).
pub const DEFAULT_STORE: &str = "sqlite:invite-demo.sqlite";

pub const USAGE: &str = "\
invite-page: serves the Invite User page on 127.0.0.1

usage: invite-page [--port N] [--store URL] [--base-url URL] [--resend-cooldown-secs N] [--no-seed]

  --port N                  port to listen on; 0 picks a free one
                            (env INVITE_PAGE_PORT, default 8080)
  --store URL               store: sqlite:PATH, sqlite::memory: or memory:
                            (env INVITE_STORE_URL, default sqlite:invite-demo.sqlite; created,
                            migrated and seeded with demo data on first run)
  --base-url URL            public origin (and path) the accept links are built from;
                            no query string or fragment
                            (env INVITE_BASE_URL, default http://127.0.0.1:PORT)
  --resend-cooldown-secs N  minimum seconds between two sends of one invitation
                            (env INVITE_RESEND_COOLDOWN_SECS, default: the library's 60)
  --no-seed                 do not load the demo data into an empty store
                            (env INVITE_NO_SEED: 1/true/yes/on; 0/false/no/off or empty
                            load it)

env INVITE_OUTBOX_KEY (64 hex digits) seals queued emails with a fixed key, so emails
still queued at a restart can be delivered after it.";

/// What the page runs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub port: u16,
    pub store_url: String,
    pub base_url: Option<String>,
    pub resend_cooldown: Option<Duration>,
    pub seed: bool,
    pub outbox_key: Option<[u8; 32]>,
}

/// What the command line asks for.
pub enum Command {
    Run(Settings),
    Help,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse_port(text: &str) -> Result<u16, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a port number"))
}

fn parse_secs(text: &str) -> Result<Duration, String> {
    text.trim()
        .parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|_| format!("`{text}` is not a number of seconds"))
}

/// Reads a base URL: the page appends `/invitations/accept` to it, so a query string
/// or a fragment would end up in front of that path and break every link. Everything
/// else (scheme, host, credentials) is the library's to check.
fn parse_base_url(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text.trim()).map_err(|_| {
        "the base URL is not an absolute URL (e.g. https://portal.example.com)".to_owned()
    })?;
    if url.query().is_some() {
        return Err(
            "the base URL must not have a query string (`?…`): the page appends its own path \
             to it"
                .to_owned(),
        );
    }
    if url.fragment().is_some() {
        return Err(
            "the base URL must not have a fragment (`#…`): the page appends its own path to it"
                .to_owned(),
        );
    }
    Ok(text.trim().to_owned())
}

/// Reads `INVITE_NO_SEED`: whether it asks to skip the demo data. Unset or empty is no.
fn parse_no_seed(value: Option<&str>) -> Result<bool, String> {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("" | "0" | "false" | "no" | "off") => Ok(false),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some(_) => Err(
            "INVITE_NO_SEED must be 1, true, yes or on (skip the demo data) or 0, false, no, \
             off or empty (load it)"
                .to_owned(),
        ),
    }
}

fn parse_key(text: &str) -> Result<[u8; 32], String> {
    let text = text.trim();
    let bad = || "INVITE_OUTBOX_KEY must be 64 hex digits".to_owned();
    if text.len() != 64 || !text.is_ascii() {
        return Err(bad());
    }
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        let pair = text.get(i * 2..i * 2 + 2).ok_or_else(bad)?;
        *byte = u8::from_str_radix(pair, 16).map_err(|_| bad())?;
    }
    Ok(key)
}

impl Command {
    /// Reads the flags (which win) and the environment.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
        let mut settings = Settings {
            port: env("INVITE_PAGE_PORT")
                .map(|p| parse_port(&p))
                .transpose()?
                .unwrap_or(DEFAULT_PORT),
            store_url: env("INVITE_STORE_URL").unwrap_or_else(|| DEFAULT_STORE.to_owned()),
            base_url: env("INVITE_BASE_URL")
                .map(|u| parse_base_url(&u))
                .transpose()?,
            resend_cooldown: env("INVITE_RESEND_COOLDOWN_SECS")
                .map(|s| parse_secs(&s))
                .transpose()?,
            seed: !parse_no_seed(env("INVITE_NO_SEED").as_deref())?,
            outbox_key: env("INVITE_OUTBOX_KEY")
                .map(|k| parse_key(&k))
                .transpose()?,
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => {
                    (flag.to_owned(), Some(value.to_owned()))
                }
                _ => (arg.clone(), None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| format!("{flag} needs a value"))
            };
            match flag.as_str() {
                "-h" | "--help" => return Ok(Command::Help),
                "--port" => settings.port = parse_port(&value()?)?,
                "--store" => settings.store_url = value()?,
                "--base-url" => settings.base_url = Some(parse_base_url(&value()?)?),
                "--resend-cooldown-secs" => settings.resend_cooldown = Some(parse_secs(&value()?)?),
                "--no-seed" => settings.seed = false,
                other => return Err(format!("unknown argument `{other}` (try --help)")),
            }
        }
        Ok(Command::Run(settings))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Settings {
        match Command::parse(args.iter().map(|s| (*s).to_owned())) {
            Ok(Command::Run(s)) => s,
            _ => panic!("expected settings"),
        }
    }

    #[test]
    fn flags_override_defaults() {
        let s = run(&[
            "--port",
            "0",
            "--store=memory:",
            "--resend-cooldown-secs",
            "0",
            "--no-seed",
        ]);
        assert_eq!(s.port, 0);
        assert_eq!(s.store_url, "memory:");
        assert_eq!(s.resend_cooldown, Some(Duration::ZERO));
        assert!(!s.seed);
    }

    #[test]
    fn bad_flags_are_errors() {
        assert!(Command::parse(["--port".to_owned(), "x".to_owned()]).is_err());
        assert!(Command::parse(["--bogus".to_owned()]).is_err());
        assert!(Command::parse(["--store".to_owned()]).is_err());
    }

    #[test]
    fn a_base_url_with_a_query_or_fragment_is_refused() {
        assert_eq!(
            run(&["--base-url", "https://invites.example.test/portal"]).base_url,
            Some("https://invites.example.test/portal".to_owned())
        );
        assert!(parse_base_url("http://127.0.0.1:1/").is_ok());
        for bad in [
            "http://127.0.0.1:1/?v=1",
            "http://127.0.0.1:1/portal?",
            "http://127.0.0.1:1/#top",
            "not a url",
        ] {
            assert!(parse_base_url(bad).is_err(), "{bad}");
            let args = ["--base-url".to_owned(), bad.to_owned()];
            assert!(Command::parse(args).is_err(), "{bad}");
        }
    }

    #[test]
    fn no_seed_reads_the_usual_booleans_and_refuses_others() {
        for skip in ["1", "true", "TRUE", "yes", "On", " on "] {
            assert_eq!(parse_no_seed(Some(skip)), Ok(true), "{skip}");
        }
        for load in ["0", "false", "False", "no", "OFF", "", "  "] {
            assert_eq!(parse_no_seed(Some(load)), Ok(false), "{load}");
        }
        assert_eq!(parse_no_seed(None), Ok(false));
        for bad in ["2", "maybe", "nope", "y"] {
            assert!(parse_no_seed(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn outbox_key_is_64_hex_digits() {
        assert_eq!(parse_key(&"ab".repeat(32)), Ok([0xab; 32]));
        assert!(parse_key("abc").is_err());
        assert!(parse_key(&"zz".repeat(32)).is_err());
    }
}
