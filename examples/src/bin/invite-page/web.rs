//! Routes, security headers and the hop from async handlers to the blocking pool.

use std::sync::Arc;

use axum::Form;
use axum::Router;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, HOST};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use invite_core::Error;
use serde::Deserialize;

use crate::app::{App, failure, html, redirect};
use crate::input::{ActionInput, FormInput, TokenInput};
use crate::pages;
use crate::pages::Audience;
use crate::session::id_from_cookie_header;

const CSS: &str = include_str!("static/page.css");
const JS: &str = include_str!("static/page.js");

/// Every route of the page.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(form_page))
        .route("/form", get(|| async { redirect("/") }).post(form_post))
        .route("/invitations", get(invitations_page))
        .route("/invitations/resend", post(resend))
        .route("/invitations/revoke", post(revoke))
        .route("/invitations/accept", get(accept_page).post(accept))
        .route("/invitations/decline", post(decline))
        .route("/mailbox", get(mailbox_page))
        .route(
            "/static/page.css",
            get(|| async { asset("text/css; charset=utf-8", CSS) }),
        )
        .route(
            "/static/page.js",
            get(|| async { asset("text/javascript; charset=utf-8", JS) }),
        )
        .route("/healthz", get(|| async { "ok" }))
        .fallback(|| async {
            html(
                StatusCode::NOT_FOUND,
                pages::error_page("Not found", "NOT_FOUND", "There is no such page.", None),
            )
        })
        .layer(middleware::from_fn_with_state(app.clone(), known_host))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn(security_headers))
        .with_state(app)
}

/// The largest request body read: the page's forms are a few hundred bytes.
const MAX_BODY: usize = 16 * 1024;

/// Answers 421 to a request whose `Host` is not one this server is reached by (the
/// loopback address and `localhost` on its port, and the `--base-url` host), and 400 to
/// one without a `Host` (RFC 9112 requires it). A page elsewhere that points its own name
/// at 127.0.0.1 (DNS rebinding) would otherwise be same-origin with this admin page and
/// could drive it.
async fn known_host(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(HOST)
        .map(|h| h.to_str().map(str::to_ascii_lowercase));
    match host {
        Some(Ok(host)) if app.hosts.contains(&host) => next.run(request).await,
        None => html(
            StatusCode::BAD_REQUEST,
            pages::error_page(
                "Missing host",
                "HOST_REQUIRED",
                "Requests must name this server's address in their Host header.",
                None,
            ),
        ),
        Some(_) => html(
            StatusCode::MISDIRECTED_REQUEST,
            pages::error_page(
                "Unknown host",
                "HOST_NOT_ALLOWED",
                "This server answers only under its own address.",
                None,
            ),
        ),
    }
}

/// The `Host` values of a server on loopback `port` whose accept links start with
/// `base_url`.
pub fn allowed_hosts(port: u16, base_url: &str) -> Vec<String> {
    let mut hosts = vec![format!("127.0.0.1:{port}"), format!("localhost:{port}")];
    if let Ok(url) = url::Url::parse(base_url)
        && let Some(host) = url.host_str()
    {
        hosts.push(match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        });
    }
    hosts
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-cache")],
        body,
    )
        .into_response()
}

/// Headers on every response: no framing, no sniffing, no referrer (accept links carry
/// tokens), scripts and styles only from this server, pages never cached.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: &'static str, value: &'static str| {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    };
    set(
        headers,
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    );
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "x-frame-options", "DENY");
    set(headers, "referrer-policy", "no-referrer");
    if !headers.contains_key(CACHE_CONTROL) {
        set(headers, "cache-control", "no-store");
    }
    response
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(id_from_cookie_header)
        .map(str::to_owned)
}

/// Runs a synchronous handler on the blocking pool.
async fn blocking(app: Arc<App>, work: impl FnOnce(&App) -> Response + Send + 'static) -> Response {
    match tokio::task::spawn_blocking(move || work(&app)).await {
        Ok(response) => response,
        Err(_) => failure(&Error::internal("a request handler panicked")),
    }
}

/// A form that could not be read: 413 for a body over [`MAX_BODY`], 415 for another
/// content type, 400 for anything else (a field repeated or malformed), each in the
/// page's words rather than the extractor's.
fn form_error(audience: Audience, rejection: &FormRejection) -> Response {
    let (status, title, code, message) = match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request too large",
            "BODY_TOO_LARGE",
            "The form sent more data than this page accepts. Nothing was changed.",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported form",
            "CONTENT_TYPE_UNSUPPORTED",
            "The form was not sent as a web form. Nothing was changed.",
        ),
        _ => (
            StatusCode::BAD_REQUEST,
            "Bad request",
            "BAD_REQUEST",
            "The form could not be read: a field is repeated or malformed. Nothing was changed.",
        ),
    };
    html(
        status,
        pages::error_page_for(audience, title, code, message, None),
    )
}

async fn form_page(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let id = cookie(&headers);
    blocking(app, move |app| {
        app.with_session(id.as_deref(), |s| app.form_page(s))
    })
    .await
}

async fn form_post(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    input: Result<Form<FormInput>, FormRejection>,
) -> Response {
    let Form(input) = match input {
        Ok(input) => input,
        Err(r) => return form_error(Audience::Admin, &r),
    };
    let id = cookie(&headers);
    blocking(app, move |app| {
        app.with_post(Audience::Admin, id.as_deref(), input.csrf.as_deref(), |s| {
            app.form_post(s, &input)
        })
    })
    .await
}

async fn invitations_page(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let id = cookie(&headers);
    blocking(app, move |app| {
        app.with_session(id.as_deref(), |s| app.invitations_page(s))
    })
    .await
}

async fn resend(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    input: Result<Form<ActionInput>, FormRejection>,
) -> Response {
    invitation_action(app, headers, input, true).await
}

async fn revoke(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    input: Result<Form<ActionInput>, FormRejection>,
) -> Response {
    invitation_action(app, headers, input, false).await
}

async fn invitation_action(
    app: Arc<App>,
    headers: HeaderMap,
    input: Result<Form<ActionInput>, FormRejection>,
    resend: bool,
) -> Response {
    let Form(input) = match input {
        Ok(input) => input,
        Err(r) => return form_error(Audience::Admin, &r),
    };
    let id = cookie(&headers);
    blocking(app, move |app| {
        app.with_post(Audience::Admin, id.as_deref(), input.csrf.as_deref(), |s| {
            app.invitation_action(s, &input, resend)
        })
    })
    .await
}

async fn mailbox_page(State(app): State<Arc<App>>) -> Response {
    blocking(app, |app| app.mailbox_page()).await
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

async fn accept_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    query: Result<Query<TokenQuery>, QueryRejection>,
) -> Response {
    let token = query.ok().and_then(|Query(q)| q.token).unwrap_or_default();
    let id = cookie(&headers);
    blocking(app, move |app| {
        app.with_session(id.as_deref(), |s| app.accept_page(s, &token))
    })
    .await
}

async fn accept(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    input: Result<Form<TokenInput>, FormRejection>,
) -> Response {
    token_post(app, headers, input, true).await
}

async fn decline(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    input: Result<Form<TokenInput>, FormRejection>,
) -> Response {
    token_post(app, headers, input, false).await
}

async fn token_post(
    app: Arc<App>,
    headers: HeaderMap,
    input: Result<Form<TokenInput>, FormRejection>,
    accept: bool,
) -> Response {
    let Form(input) = match input {
        Ok(input) => input,
        Err(r) => return form_error(Audience::Invitee, &r),
    };
    let id = cookie(&headers);
    blocking(app, move |app| {
        app.with_post(
            Audience::Invitee,
            id.as_deref(),
            input.csrf.as_deref(),
            |s| {
                let token = input.token.as_deref().unwrap_or("");
                if accept {
                    app.accept(s, token)
                } else {
                    app.decline(token)
                }
            },
        )
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::allowed_hosts;

    #[test]
    fn the_allowed_hosts_are_loopback_on_the_port_and_the_base_url_host() {
        assert_eq!(
            allowed_hosts(8080, "http://127.0.0.1:8080"),
            ["127.0.0.1:8080", "localhost:8080", "127.0.0.1:8080"]
        );
        assert_eq!(
            allowed_hosts(8080, "https://Invites.Example.test/portal"),
            ["127.0.0.1:8080", "localhost:8080", "invites.example.test"]
        );
        assert_eq!(
            allowed_hosts(9, "https://portal.example.test:8443/"),
            ["127.0.0.1:9", "localhost:9", "portal.example.test:8443"]
        );
    }
}
