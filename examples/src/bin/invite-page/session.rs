//! Server-side sessions: a random id in an `HttpOnly` cookie names the session's form
//! state, its CSRF token and a one-shot flash message.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use invite_core::form::SubmitError;
use invite_core::{InvitationStatus, InviteForm};
use maud::Markup;

/// Name of the session cookie.
pub const COOKIE: &str = "invite_sid";
/// Sessions kept at most. The least recently used that never posted goes first: any web
/// page can make a browser open thousands of cookie-less sessions (image requests to
/// an accept link), and those must not push out a session in use.
const MAX_SESSIONS: usize = 10_000;
/// Length of an encoded session id or CSRF token (32 random bytes, base64url).
const TOKEN_LEN: usize = 43;

/// A one-shot message shown by the next page rendered.
#[derive(Clone, Debug)]
pub enum Flash {
    /// The form's invitation was sent.
    Sent { email: String, accept_link: String },
    /// The form's send was refused.
    Rejected(SubmitError),
    /// The form's send was a replay (the same send key posted again) of an invitation
    /// whose first link no longer works: it was resent, or is no longer pending.
    AlreadySent {
        email: String,
        status: InvitationStatus,
    },
    /// An action on the invitations list worked; a resend brings its new accept link.
    Done {
        code: &'static str,
        message: String,
        accept_link: Option<String>,
    },
    /// An action on the invitations list was refused.
    Failed { code: String, message: String },
}

/// One browser's state.
#[derive(Debug)]
pub struct Session {
    pub csrf: String,
    pub form: InviteForm,
    pub flash: Option<Flash>,
    /// The last invitation this browser accepted: its (now dead) token and the welcome
    /// page, shown again when the Accept form is posted twice (a double click, a reload).
    pub accepted: Option<(String, Markup)>,
    last_seen: Instant,
    /// Whether a POST with this session's CSRF token came (someone used the page).
    posted: bool,
}

impl Session {
    /// Whether `token` is this session's CSRF token (compared in constant time); a
    /// match marks the session as used, so a flood of new ones cannot evict it.
    pub fn csrf_ok(&mut self, token: Option<&str>) -> bool {
        let Some(token) = token else { return false };
        let (a, b) = (self.csrf.as_bytes(), token.as_bytes());
        let ok = a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
        self.posted |= ok;
        ok
    }
}

/// A fresh random token: 32 bytes from the OS CSPRNG, base64url.
pub fn random_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The session id from a `Cookie` header value, if well-formed.
pub fn id_from_cookie_header(header: &str) -> Option<&str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| {
            v.len() == TOKEN_LEN
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// The `Set-Cookie` value for a session id; `secure` when the page is reached over
/// HTTPS, so the browser never sends the session over plain HTTP. (Browsers keep a
/// `Secure` cookie from `http://localhost` and `http://127.0.0.1` too.)
pub fn set_cookie(id: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax{secure}")
}

/// Every live session.
pub struct Sessions {
    map: Mutex<HashMap<String, Arc<Mutex<Session>>>>,
    capacity: usize,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions::with_capacity(MAX_SESSIONS)
    }
}

/// Locks a mutex, recovering from a poisoned one (a panicking request must not take the
/// whole page down).
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Sessions {
    /// A session table keeping at most `capacity` sessions.
    fn with_capacity(capacity: usize) -> Self {
        Sessions {
            map: Mutex::default(),
            capacity: capacity.max(1),
        }
    }

    /// The session named by the cookie, if it exists.
    pub fn get(&self, id: Option<&str>) -> Option<Arc<Mutex<Session>>> {
        let session = lock(&self.map).get(id?).cloned()?;
        lock(&session).last_seen = Instant::now();
        Some(session)
    }

    /// The session named by the cookie, or a new one. The id is `Some` when new (the
    /// caller sets the cookie).
    pub fn get_or_create(
        &self,
        id: Option<&str>,
    ) -> Result<(Arc<Mutex<Session>>, Option<String>), getrandom::Error> {
        if let Some(session) = self.get(id) {
            return Ok((session, None));
        }
        let id = random_token()?;
        let session = Arc::new(Mutex::new(Session {
            csrf: random_token()?,
            form: InviteForm::new(),
            flash: None,
            accepted: None,
            last_seen: Instant::now(),
            posted: false,
        }));
        let mut map = lock(&self.map);
        if map.len() >= self.capacity {
            // Unused sessions go first, the least recently seen of them.
            let oldest = map
                .iter()
                .min_by_key(|(_, s)| {
                    let s = lock(s);
                    (s.posted, s.last_seen)
                })
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                map.remove(&oldest);
            }
        }
        map.insert(id.clone(), session.clone());
        Ok((session, Some(id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_ids_are_checked_before_lookup() {
        let id = random_token().unwrap();
        let header = format!("a=b; {COOKIE}={id}; c=d");
        assert_eq!(id_from_cookie_header(&header), Some(id.as_str()));
        assert_eq!(id_from_cookie_header(&format!("{COOKIE}=short")), None);
        assert_eq!(
            id_from_cookie_header(&format!("{COOKIE}={}", "!".repeat(43))),
            None
        );
    }

    #[test]
    fn the_cookie_is_secure_when_asked() {
        let id = random_token().unwrap();
        assert_eq!(
            set_cookie(&id, false),
            format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax")
        );
        assert_eq!(
            set_cookie(&id, true),
            format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax; Secure")
        );
    }

    #[test]
    fn sessions_are_found_again_and_csrf_is_exact() {
        let sessions = Sessions::default();
        let (session, id) = sessions.get_or_create(None).unwrap();
        let id = id.unwrap();
        let (again, new_id) = sessions.get_or_create(Some(&id)).unwrap();
        assert!(new_id.is_none());
        assert!(Arc::ptr_eq(&session, &again));
        let token = lock(&session).csrf.clone();
        assert!(lock(&session).csrf_ok(Some(&token)));
        assert!(!lock(&session).csrf_ok(Some("nope")));
        assert!(!lock(&session).csrf_ok(None));
    }

    #[test]
    fn a_flood_of_new_sessions_never_evicts_one_in_use() {
        let sessions = Sessions::with_capacity(4);
        let (admin, id) = sessions.get_or_create(None).unwrap();
        let admin_id = id.unwrap();
        let token = lock(&admin).csrf.clone();
        assert!(lock(&admin).csrf_ok(Some(&token)));
        // Cookie-less requests (image tags on another site) open session after session.
        for _ in 0..100 {
            sessions.get_or_create(None).unwrap();
        }
        assert_eq!(lock(&sessions.map).len(), 4);
        let (again, new_id) = sessions.get_or_create(Some(&admin_id)).unwrap();
        assert!(new_id.is_none(), "the session in use was kept");
        assert!(Arc::ptr_eq(&admin, &again));
    }
}
