//! The page's state and its request handlers, written synchronously (the web layer runs
//! them on tokio's blocking pool, since the library is synchronous).

use std::sync::{Arc, Mutex};

use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use invite_core::form::SubmitOutcome;
use invite_core::{
    AcceptRequest, BusinessId, CapturingMailer, Error, ErrorCode, ErrorKind, FieldError,
    InvitationId, InvitationStatus, InviteService, SentInvitation, User,
};
use maud::Markup;

use crate::input::{ActionInput, FormInput, apply};
use crate::outbox::Waker;
use crate::pages;
use crate::pages::Audience;
use crate::session::{Flash, Session, Sessions, lock, random_token, set_cookie};

/// Everything a request needs.
pub struct App {
    pub service: Arc<InviteService>,
    pub mailer: Arc<CapturingMailer>,
    pub admin: User,
    pub sessions: Sessions,
    pub waker: Waker,
    /// The `Host` values requests may carry (see `web::known_host`).
    pub hosts: Vec<String>,
    /// Whether the session cookie is `Secure`: the base URL is `https` (the page is
    /// served behind a TLS proxy).
    pub secure_cookie: bool,
}

/// An HTML response.
pub fn html(status: StatusCode, markup: Markup) -> Response {
    (
        status,
        [("content-type", "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

/// A 303 to a page of this site.
pub fn redirect(to: &'static str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, to)]).into_response()
}

/// The page for a failure the visitor cannot fix (storage down, a bug), for the admin.
pub fn failure(e: &Error) -> Response {
    failure_for(Audience::Admin, e)
}

/// The page for a failure the visitor cannot fix (storage down, a bug).
pub fn failure_for(audience: Audience, e: &Error) -> Response {
    eprintln!("invite-page: {} ({})", e, e.code());
    let status = match e.kind() {
        ErrorKind::Storage => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    html(
        status,
        pages::error_page_for(
            audience,
            "Something went wrong",
            e.code().as_str(),
            "The request could not be completed. Try again.",
            None,
        ),
    )
}

/// A POST without this session's CSRF token. The admin reloads the page for a fresh
/// token; the invitee's page is reached only from the email (reloading it would post the
/// stale token again), so the invitee opens the link again.
fn csrf_rejected(audience: Audience) -> Response {
    let message = match audience {
        Audience::Admin => {
            "This form is stale or did not come from this site. Reload the page and try again."
        }
        Audience::Invitee => {
            "This page is out of date or did not come from this site. Open the link in your \
             invitation email again, then accept or decline from the page it opens."
        }
    };
    html(
        StatusCode::FORBIDDEN,
        pages::error_page_for(audience, "Request refused", "CSRF_REJECTED", message, None),
    )
}

/// A malformed request (400).
pub fn bad_request(message: &str) -> Response {
    html(
        StatusCode::BAD_REQUEST,
        pages::error_page("Bad request", "BAD_REQUEST", message, None),
    )
}

/// What the form shows after a send. A replay (the same send key posted again) of an
/// invitation that was resent since, or is no longer pending, says so instead of
/// "sent": the link it returns is dead.
fn sent_flash(sent: &SentInvitation) -> Flash {
    let inv = &sent.invitation;
    if sent.replayed && (inv.status != InvitationStatus::Pending || inv.send_count > 1) {
        Flash::AlreadySent {
            email: inv.email.clone(),
            status: inv.status,
        }
    } else {
        Flash::Sent {
            email: inv.email.clone(),
            accept_link: sent.accept_link.clone(),
        }
    }
}

impl App {
    fn admin_name(&self) -> String {
        self.admin.display_name()
    }

    /// Runs `render` with the visitor's session (created if needed, with its cookie).
    pub fn with_session(
        &self,
        cookie: Option<&str>,
        render: impl FnOnce(&mut Session) -> Response,
    ) -> Response {
        let (session, new_id) = match self.sessions.get_or_create(cookie) {
            Ok(found) => found,
            Err(_) => return failure(&Error::internal("the OS random source failed")),
        };
        let mut response = render(&mut lock(&session));
        if let Some(id) = new_id
            && let Ok(value) = HeaderValue::from_str(&set_cookie(&id, self.secure_cookie))
        {
            response.headers_mut().append(SET_COOKIE, value);
        }
        response
    }

    /// Runs `act` for a POST whose CSRF token matches the session's; 403 otherwise,
    /// worded for `audience`.
    pub fn with_post(
        &self,
        audience: Audience,
        cookie: Option<&str>,
        csrf: Option<&str>,
        act: impl FnOnce(&mut Session) -> Response,
    ) -> Response {
        let Some(session) = self.sessions.get(cookie) else {
            return csrf_rejected(audience);
        };
        let mut session = lock(&session);
        if !session.csrf_ok(csrf) {
            return csrf_rejected(audience);
        }
        act(&mut session)
    }

    // ---- the Invite User form -------------------------------------------------------

    /// GET `/`: the form as the library sees it, plus the last send's outcome.
    pub fn form_page(&self, s: &mut Session) -> Response {
        let mut extra = Vec::new();
        let view = match s.form.view(&self.service, self.admin.id) {
            Ok(view) => view,
            // An unusable search (too long) is reported next to the search box.
            Err(e) if e.code() == ErrorCode::ValidationFailed => {
                extra = e
                    .field_errors()
                    .iter()
                    .map(|f| FieldError::new("user_query", f.code, f.message.clone()))
                    .collect();
                s.form.set_user_query("");
                match s.form.view(&self.service, self.admin.id) {
                    Ok(view) => view,
                    Err(e) => return failure(&e),
                }
            }
            Err(e) => return failure(&e),
        };
        let flash = s.flash.take();
        // A fresh key per rendering: posting this form twice (a double-clicked Send)
        // replays the first send instead of answering ALREADY_INVITED.
        let send_key = random_token().unwrap_or_default();
        html(
            StatusCode::OK,
            pages::form::render(
                &view,
                &s.csrf,
                &send_key,
                flash.as_ref(),
                &extra,
                &self.admin_name(),
            ),
        )
    }

    /// POST `/form`: applies the posted fields through the form's setters, then the
    /// action (`update`, `search`, `send`, `clear`), and redirects to the page.
    pub fn form_post(&self, s: &mut Session, input: &FormInput) -> Response {
        if input.action.as_deref() == Some("clear") {
            s.form.clear();
            return redirect("/");
        }
        let send = input.action.as_deref() == Some("send");
        if let Err(field) = apply(&mut s.form, input, send) {
            return bad_request(&format!("`{field}` has a value the page never offers"));
        }
        if send {
            let submitted = match input.idempotency_key.as_deref().filter(|k| !k.is_empty()) {
                Some(key) => s.form.submit_with_key(&self.service, self.admin.id, key),
                None => s.form.submit(&self.service, self.admin.id),
            };
            s.flash = Some(match submitted {
                Ok(SubmitOutcome::Sent(sent)) => {
                    self.waker.wake();
                    sent_flash(&sent)
                }
                Ok(SubmitOutcome::Rejected(rejection)) => Flash::Rejected(rejection),
                // Every refusal the admin can act on is a Rejected outcome; what is left
                // (storage down, a bug) is the failure page, with no backend text.
                Err(e) => return failure(&e),
            });
        }
        redirect("/")
    }

    // ---- the invitations list -------------------------------------------------------

    /// GET `/invitations`: every invitation of the businesses the admin may invite into.
    pub fn invitations_page(&self, s: &mut Session) -> Response {
        match self.invitation_list() {
            Ok(list) => {
                // Only the list's own messages; a form result waits for the form page.
                let flash = match s.flash.take() {
                    Some(flash @ (Flash::Done { .. } | Flash::Failed { .. })) => Some(flash),
                    other => {
                        s.flash = other;
                        None
                    }
                };
                html(
                    StatusCode::OK,
                    pages::invitations::render(&list, &s.csrf, flash.as_ref(), &self.admin_name()),
                )
            }
            Err(e) => failure(&e),
        }
    }

    /// POST `/invitations/resend` and `/invitations/revoke`.
    pub fn invitation_action(
        &self,
        s: &mut Session,
        input: &ActionInput,
        resend: bool,
    ) -> Response {
        let ids = input
            .business_id
            .as_deref()
            .and_then(|b| b.parse::<BusinessId>().ok())
            .zip(
                input
                    .invitation_id
                    .as_deref()
                    .and_then(|i| i.parse::<InvitationId>().ok()),
            );
        let Some((business, id)) = ids else {
            return bad_request("the business and invitation ids are missing or malformed");
        };
        let outcome = if resend {
            self.service
                .resend(business, id, self.admin.id, None)
                .map(|sent| {
                    self.waker.wake();
                    Flash::Done {
                        code: "INVITATION_RESENT",
                        message: format!(
                            "Invitation resent to {}. The previous link no longer works.",
                            sent.invitation.email
                        ),
                        accept_link: Some(sent.accept_link),
                    }
                })
        } else {
            self.service
                .revoke(business, id, self.admin.id)
                .map(|inv| Flash::Done {
                    code: "INVITATION_REVOKED",
                    message: format!(
                        "Invitation to {} revoked. Its link no longer works.",
                        inv.email
                    ),
                    accept_link: None,
                })
        };
        s.flash = Some(match outcome {
            Ok(flash) => flash,
            Err(e) if matches!(e.kind(), ErrorKind::Storage | ErrorKind::Internal) => {
                return failure(&e);
            }
            Err(e) => {
                let mut message = e.message().to_owned();
                if let Some(retry) = e.retry_after() {
                    message.push_str(&format!(" (retry in {} s)", retry.as_secs().max(1)));
                }
                Flash::Failed {
                    code: e.code().as_str().to_owned(),
                    message,
                }
            }
        });
        redirect("/invitations")
    }

    // ---- the mailbox and the invitee's side -----------------------------------------

    /// GET `/mailbox`.
    pub fn mailbox_page(&self) -> Response {
        html(
            StatusCode::OK,
            pages::mailbox::render(&self.mailer.sent(), &self.admin_name()),
        )
    }

    /// GET `/invitations/accept?token=…`: a read-only preview (`peek`).
    pub fn accept_page(&self, s: &mut Session, token: &str) -> Response {
        match self.service.peek(token) {
            Ok(preview) => html(
                StatusCode::OK,
                pages::accept::preview(&preview, token, &s.csrf),
            ),
            Err(e) => self.refused(&e),
        }
    }

    /// POST `/invitations/accept`.
    ///
    /// The browser that accepted keeps the welcome page: the same Accept posted again
    /// from it (a double click, a reload) shows it again instead of "link not valid".
    /// Anyone else still gets the answer every used link gets (T13).
    pub fn accept(&self, s: &mut Session, token: &str) -> Response {
        if let Some((accepted, page)) = &s.accepted
            && accepted == token
        {
            return html(StatusCode::OK, page.clone());
        }
        match self.service.accept(&AcceptRequest::new(token)) {
            Ok(accepted) => {
                let inv = &accepted.invitation;
                let business = self
                    .service
                    .get_business(inv.business_id)
                    .map(|b| b.name)
                    .unwrap_or_default();
                let app = self
                    .service
                    .get_app(inv.app_id)
                    .map(|a| a.name)
                    .unwrap_or_default();
                let page = pages::accept::accepted(&accepted, &business, &app);
                s.accepted = Some((token.to_owned(), page.clone()));
                html(StatusCode::OK, page)
            }
            Err(e) => self.refused(&e),
        }
    }

    /// POST `/invitations/decline`.
    pub fn decline(&self, token: &str) -> Response {
        match self.service.decline(token) {
            Ok(inv) => html(StatusCode::OK, pages::accept::declined(&inv)),
            Err(e) => self.refused(&e),
        }
    }

    fn refused(&self, e: &Error) -> Response {
        if matches!(e.kind(), ErrorKind::Storage | ErrorKind::Internal) {
            return failure_for(Audience::Invitee, e);
        }
        let mut message = e.message().to_owned();
        if let Some(help) = e.help() {
            message = format!("{message}: {help}");
        }
        let status = match e.kind() {
            ErrorKind::InvalidInput | ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::PermissionDenied => StatusCode::FORBIDDEN,
            _ => StatusCode::CONFLICT,
        };
        html(status, pages::accept::refused(e.code().as_str(), &message))
    }
}

/// Keeps the type checker honest about what crosses into the blocking pool.
#[allow(dead_code, reason = "compile-time assertion only")]
fn assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<App>();
    is::<Mutex<Session>>();
}
