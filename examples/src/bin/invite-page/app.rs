//! The page's state and its request handlers, written synchronously (the web layer runs
//! them on tokio's blocking pool, since the library is synchronous).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use invite_core::form::SubmitOutcome;
use invite_core::{
    AcceptRequest, ApplicationId, BusinessId, CapturingMailer, Error, ErrorCode, ErrorKind,
    FieldError, InvitationFilter, InvitationId, InviteService, Invitee, PageRequest,
    SubscriptionId, User,
};
use maud::Markup;

use crate::input::{ActionInput, FormInput, apply};
use crate::outbox::Waker;
use crate::pages;
use crate::pages::invitations::Row;
use crate::session::{Flash, Session, Sessions, lock, random_token, set_cookie};

/// How many invitations per business the list shows.
const LIST_LIMIT: u32 = 200;

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

fn redirect(to: &'static str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, to)]).into_response()
}

/// The page for a failure the visitor cannot fix (storage down, a bug).
pub fn failure(e: &Error) -> Response {
    eprintln!("invite-page: {} ({})", e, e.code());
    let status = match e.kind() {
        ErrorKind::Storage => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    html(
        status,
        pages::error_page(
            "Something went wrong",
            e.code().as_str(),
            "The request could not be completed. Try again.",
            None,
        ),
    )
}

fn csrf_rejected() -> Response {
    html(
        StatusCode::FORBIDDEN,
        pages::error_page(
            "Request refused",
            "CSRF_REJECTED",
            "This form is stale or did not come from this site. Reload the page and try again.",
            None,
        ),
    )
}

/// A malformed request (400).
pub fn bad_request(message: &str) -> Response {
    html(
        StatusCode::BAD_REQUEST,
        pages::error_page("Bad request", "BAD_REQUEST", message, None),
    )
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

    /// Runs `act` for a POST whose CSRF token matches the session's; 403 otherwise.
    pub fn with_post(
        &self,
        cookie: Option<&str>,
        csrf: Option<&str>,
        act: impl FnOnce(&mut Session) -> Response,
    ) -> Response {
        let Some(session) = self.sessions.get(cookie) else {
            return csrf_rejected();
        };
        let mut session = lock(&session);
        if !session.csrf_ok(csrf) {
            return csrf_rejected();
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
                    Flash::Sent {
                        email: sent.invitation.email.clone(),
                        accept_link: sent.accept_link.clone(),
                    }
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
        match self.rows() {
            Ok(rows) => {
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
                    pages::invitations::render(&rows, &s.csrf, flash.as_ref(), &self.admin_name()),
                )
            }
            Err(e) => failure(&e),
        }
    }

    fn rows(&self) -> Result<Vec<Row>, Error> {
        let svc = &self.service;
        let apps: HashMap<ApplicationId, String> = svc
            .list_apps()?
            .into_iter()
            .map(|a| (a.id, a.name))
            .collect();
        let mut roles = HashMap::new();
        for app in apps.keys() {
            for role in svc.list_roles(*app)? {
                roles.insert(role.id, role.name);
            }
        }
        let mut plans: HashMap<SubscriptionId, String> = HashMap::new();
        let mut rows = Vec::new();
        for option in svc.businesses_for_inviter(self.admin.id)? {
            let business = option.business;
            let page = svc.list_invitations(
                business.id,
                &InvitationFilter::default(),
                &PageRequest::first(LIST_LIMIT),
            )?;
            for invitation in page.items {
                if let std::collections::hash_map::Entry::Vacant(slot) =
                    plans.entry(invitation.subscription_id)
                {
                    slot.insert(
                        svc.get_subscription(business.id, invitation.subscription_id)?
                            .plan,
                    );
                }
                let invitee = match &invitation.invitee {
                    Invitee::Existing { user_id } => {
                        svc.get_user(*user_id).map(|u| u.display_name())?
                    }
                    Invitee::New {
                        first_name,
                        last_name,
                    } => format!("{first_name} {last_name} (new)"),
                };
                let events = svc
                    .list_events(business.id, Some(invitation.id), &PageRequest::first(50))?
                    .items;
                rows.push(Row {
                    business: business.name.clone(),
                    app: apps.get(&invitation.app_id).cloned().unwrap_or_default(),
                    plan: plans
                        .get(&invitation.subscription_id)
                        .cloned()
                        .unwrap_or_default(),
                    role: roles.get(&invitation.role_id).cloned().unwrap_or_default(),
                    invitee,
                    events,
                    invitation,
                });
            }
        }
        rows.sort_by_key(|row| std::cmp::Reverse(row.invitation.created_at));
        Ok(rows)
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
            return failure(e);
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
