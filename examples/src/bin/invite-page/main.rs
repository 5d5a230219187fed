//! `invite-page`: the Invite User page, served on 127.0.0.1 by the library's form model.
//!
//! ```text
//! cargo run -p invite-examples --bin invite-page -- --port 8080 --store sqlite:invite-demo.sqlite
//! ```
//!
//! By default it opens (creating and migrating) the embedded SQLite file
//! `invite-demo.sqlite` and loads the demo catalog into it when it has no business yet.
//! The seeded admin is "signed in" (a real host authenticates its admins). The outbox
//! is delivered every second to an in-process mailbox shown at `/mailbox`, whose accept
//! links lead to the invitee's page. All HTML, CSS and JS come from this binary.
//! See `--help` for the flags and environment variables.

mod app;
mod input;
mod listing;
mod outbox;
mod pages;
mod seed;
mod session;
mod settings;
mod web;

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;

use invite_core::{CapturingMailer, Config, InviteService};

use crate::app::App;
use crate::session::Sessions;
use crate::settings::{Command, Settings, USAGE};

fn main() -> ExitCode {
    let settings = match Command::parse(std::env::args().skip(1)) {
        Ok(Command::Run(settings)) => settings,
        Ok(Command::Help) => {
            say(USAGE);
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("invite-page: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("invite-page: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("invite-page: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Prints a line on stdout; a closed stdout (`| head`) is not worth a panic.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// Builds the service on the configured store, seeding it when empty.
fn service(settings: &Settings, base_url: &str) -> Result<InviteService, String> {
    let show = |e: invite_core::Error| match e.help() {
        Some(help) => format!("{e} ({}; {help})", e.code()),
        None => format!("{e} ({})", e.code()),
    };
    let store = invite_core::store::open(&settings.store_url).map_err(show)?;
    let mut config = Config::with_base_url(format!("{base_url}/invitations/accept"));
    if let Some(cooldown) = settings.resend_cooldown {
        config.limits.resend_cooldown = chrono::Duration::from_std(cooldown)
            .map_err(|_| "the resend cooldown is too long".to_owned())?;
    }
    let mut builder = InviteService::builder(store).config(config);
    if let Some(key) = settings.outbox_key {
        builder = builder.outbox_key(key);
    }
    let service = builder.build().map_err(show)?;
    if settings.seed && seed::seed(&service).map_err(show)? {
        say(&format!(
            "invite-page: loaded the demo data into {}",
            shown(&settings.store_url)
        ));
    }
    Ok(service)
}

/// A store URL fit for the console: a password in it is replaced by `***`.
fn shown(store_url: &str) -> String {
    match url::Url::parse(store_url) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => store_url.to_owned(),
    }
}

async fn serve(settings: Settings) -> Result<(), String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, settings.port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let base_url = settings
        .base_url
        .clone()
        .unwrap_or_else(|| format!("http://127.0.0.1:{port}"));
    let base_url = base_url.trim_end_matches('/').to_owned();

    let (service, admin) = {
        let settings = settings.clone();
        let base_url = base_url.clone();
        tokio::task::spawn_blocking(move || -> Result<_, String> {
            let service = service(&settings, &base_url)?;
            let admin = service
                .find_user_by_email(seed::ADMIN_EMAIL)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| {
                    format!(
                        "the store has no admin user {} (run without --no-seed on an empty store)",
                        seed::ADMIN_EMAIL
                    )
                })?;
            Ok((Arc::new(service), admin))
        })
        .await
        .map_err(|e| e.to_string())??
    };

    let mailer = Arc::new(CapturingMailer::new());
    let (waker, worker) =
        outbox::start(service.clone(), mailer.clone()).map_err(|e| e.to_string())?;
    let app = Arc::new(App {
        service,
        mailer,
        admin,
        sessions: Sessions::default(),
        waker,
        hosts: web::allowed_hosts(port, &base_url),
        secure_cookie: url::Url::parse(&base_url).is_ok_and(|url| url.scheme() == "https"),
    });

    say(&format!(
        "invite-page: store {}",
        shown(&settings.store_url)
    ));
    say(&format!(
        "invite-page: listening on http://127.0.0.1:{port}/ (accept links: {base_url}/invitations/accept)"
    ));

    let result = axum::serve(listener, web::router(app.clone()))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| e.to_string());
    // Dropping the last waker stops the outbox worker.
    drop(app);
    let _ = tokio::task::spawn_blocking(move || worker.join()).await;
    say("invite-page: stopped");
    result
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn store_urls_are_shown_without_their_password() {
        assert_eq!(
            shown("postgres://app:s3cret@db.internal:5432/invites?sslmode=require"),
            "postgres://app:***@db.internal:5432/invites?sslmode=require"
        );
        for kept in ["sqlite:page.db", "memory:", "postgres://app@db/invites"] {
            assert_eq!(shown(kept), kept);
        }
    }
}
