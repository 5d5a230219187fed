//! The use cases: catalog, the page's queries, the invitation lifecycle, delivery.

mod accept;
mod bulk;
mod catalog;
mod config;
mod dispatch;
mod id_minter;
mod idempotency;
mod lifecycle;
mod listing;
mod paging;
mod queries;
mod random_block;
mod request;
mod send;
mod validate;

pub use accept::{AcceptRequest, Accepted, InvitationPreview};
pub use bulk::{
    BulkInvitee, BulkRowDraft, BulkSendDraft, BulkSendRequest, BulkSendResult, MAX_BULK_ROWS,
    RowError,
};
pub use catalog::{NewSubscription, NewUser, SubscriptionChanges};
pub use config::{
    Config, DEFAULT_EXPIRY, DeliveryConfig, Limits, MAX_DELIVERY_ATTEMPTS, MAX_DURATION,
    MAX_EXPIRY, MIN_EXPIRY,
};
pub use dispatch::DispatchReport;
pub use idempotency::MAX_IDEMPOTENCY_KEY_LEN;
pub use listing::InvitationFilter;
pub use paging::{MAX_PAGE_SIZE, Page, PageRequest};
pub use queries::MAX_QUERY_LEN;
pub(crate) use queries::check_query_len;
pub use queries::{BusinessOption, SubscriptionOption};
pub use request::{NewInvitee, SendInvitationDraft, SendInvitationRequest, SentInvitation};

use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, SubsecRound, Utc};

use crate::authz::{AuthorizationPolicy, DefaultPolicy, InviterRights};
use crate::clock::{Clock, SystemClock, within_range};
use crate::error::{Error, ErrorCode, Result};
use crate::ids::{ApplicationId, BusinessId, InvitationId, UserId};
use crate::mail::{DefaultTemplates, EmailRenderer, NONCE_LEN, TokenSealer};
use crate::model::{Event, EventKind, Membership};
use crate::random::{OsRandom, RandomSource};
use crate::store::{Store, Transaction};
use crate::token::{TOKEN_LEN, Token};
use id_minter::IdMinter;
use random_block::RandomBlock;

/// Called after a unit of work commits, with the events it recorded.
pub trait EventHook: Send + Sync {
    /// Receives committed events, oldest first. Must not fail or block for long.
    fn on_events(&self, events: &[Event]);
}

/// How many times a unit of work is retried after `STORAGE_CONFLICT`.
const MAX_TX_ATTEMPTS: u32 = 8;

/// The invitation engine. Cheap to share (`Arc` it); `Send + Sync`.
///
/// ```
/// use std::sync::Arc;
/// use invite_core::{Config, InviteService, InMemoryStore};
///
/// let service = InviteService::builder(Arc::new(InMemoryStore::new()))
///     .config(Config::with_base_url("https://app.example.com/accept"))
///     .build()?;
/// let acme = service.create_business("Acme")?;
/// assert_eq!(service.get_business(acme.id)?.name, "Acme");
/// # Ok::<(), invite_core::Error>(())
/// ```
pub struct InviteService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
    policy: Arc<dyn AuthorizationPolicy>,
    renderer: Arc<dyn EmailRenderer>,
    hook: Option<Arc<dyn EventHook>>,
    sealer: TokenSealer,
    config: Config,
    /// Every accept link up to its token (see [`InviteService::accept_link`]).
    link_prefix: String,
    ids: IdMinter,
    /// Nonces for sealed tokens, drawn ahead ([`RandomBlock`]).
    nonces: Mutex<RandomBlock<{ NONCE_LEN * NONCES_PER_DRAW }>>,
}

/// Seal nonces per draw from the random source.
const NONCES_PER_DRAW: usize = 16;

impl std::fmt::Debug for InviteService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InviteService")
            .field("store", &self.store.kind())
            .field("config", &self.config)
            .finish()
    }
}

/// The outbox key of services built without one: drawn once per process, so that every
/// service of the process (a web handler and a dispatch worker on one store, say) can
/// send what the others queued.
fn process_outbox_key() -> Result<[u8; 32]> {
    static KEY: OnceLock<[u8; 32]> = OnceLock::new();
    if let Some(key) = KEY.get() {
        return Ok(*key);
    }
    let mut key = [0u8; 32];
    OsRandom.fill(&mut key)?;
    Ok(*KEY.get_or_init(|| key))
}

/// Builds an [`InviteService`]; every port has a production default.
pub struct InviteServiceBuilder {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
    policy: Arc<dyn AuthorizationPolicy>,
    renderer: Arc<dyn EmailRenderer>,
    hook: Option<Arc<dyn EventHook>>,
    outbox_key: Option<[u8; 32]>,
    config: Config,
}

impl InviteServiceBuilder {
    /// The clock (default: system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The random source (default: the OS CSPRNG).
    pub fn random(mut self, random: Arc<dyn RandomSource>) -> Self {
        self.random = random;
        self
    }

    /// The authorization policy (default: [`DefaultPolicy`]).
    pub fn policy(mut self, policy: Arc<dyn AuthorizationPolicy>) -> Self {
        self.policy = policy;
        self
    }

    /// The email renderer (default: [`DefaultTemplates`]).
    pub fn renderer(mut self, renderer: Arc<dyn EmailRenderer>) -> Self {
        self.renderer = renderer;
        self
    }

    /// A hook called after each commit with its events.
    pub fn event_hook(mut self, hook: Arc<dyn EventHook>) -> Self {
        self.hook = Some(hook);
        self
    }

    /// The key that seals tokens waiting in the outbox. Configure a persistent secret so
    /// queued emails survive a restart; without one the process's key is used (drawn
    /// once, shared by every service of the process). Required
    /// on PostgreSQL, whose app servers share one outbox: each must open what the others
    /// sealed, so all of them need the same key (`build` answers `INVALID_CONFIG`).
    pub fn outbox_key(mut self, key: [u8; 32]) -> Self {
        self.outbox_key = Some(key);
        self
    }

    /// The configuration (default: [`Config::default`]).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Validates the configuration (`INVALID_CONFIG`) and builds the service.
    pub fn build(self) -> Result<InviteService> {
        let link_prefix = self.config.validate()?;
        let key = match self.outbox_key {
            Some(key) => key,
            None if self.store.kind() == "postgres" => {
                return Err(Error::new(
                    ErrorCode::InvalidConfig,
                    "a PostgreSQL store needs an outbox key: a per-process key would leave \
                     the emails one app server queued unreadable to the others",
                )
                .with_help("configure the same 32-byte secret on every app server"));
            }
            None => process_outbox_key()?,
        };
        Ok(InviteService {
            store: self.store,
            clock: self.clock,
            random: self.random,
            policy: self.policy,
            renderer: self.renderer,
            hook: self.hook,
            sealer: TokenSealer::new(key),
            config: self.config,
            link_prefix,
            ids: IdMinter::default(),
            nonces: Mutex::default(),
        })
    }
}

impl InviteService {
    /// Starts building a service on `store`.
    pub fn builder(store: Arc<dyn Store>) -> InviteServiceBuilder {
        InviteServiceBuilder {
            store,
            clock: Arc::new(SystemClock),
            random: Arc::new(OsRandom),
            policy: Arc::new(DefaultPolicy),
            renderer: Arc::new(DefaultTemplates),
            hook: None,
            outbox_key: None,
            config: Config::default(),
        }
    }

    /// A service with every default on `store`.
    pub fn new(store: Arc<dyn Store>, config: Config) -> Result<Self> {
        Self::builder(store).config(config).build()
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The current time by the service's clock, at the microsecond precision every
    /// store keeps (PostgreSQL's `timestamptz` holds no finer), so an instant the
    /// service returns is the one it stored, whatever the clock's precision.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now().trunc_subsecs(6)
    }

    /// [`InviteService::now`], checked to lie in the years the service works with.
    fn checked_now(&self) -> Result<DateTime<Utc>> {
        within_range(self.now(), "the clock's time")
    }

    /// The accept link for a token: the configured base URL with `token` added to its
    /// query.
    pub fn accept_link(&self, token: &Token) -> String {
        let mut link = String::with_capacity(self.link_prefix.len() + TOKEN_LEN);
        link.push_str(&self.link_prefix);
        link.push_str(token.expose());
        link
    }

    /// `text` with the token of `link` (an accept link of this service) replaced by
    /// `<redacted>`, wherever it appears, whole or cut (a quoted message wraps long
    /// lines, and its soft line breaks split the token): for texts that are stored or
    /// shown.
    pub(crate) fn without_token(&self, text: &str, link: &str) -> String {
        match link.strip_prefix(self.link_prefix.as_str()) {
            Some(token) if !token.is_empty() => {
                without_fragments(&text.replace(token, crate::token::REDACTED_TEXT), token)
            }
            _ => text.to_owned(),
        }
    }

    /// Runs `work` in a write transaction: commits on `Ok`, rolls back on `Err`, retries
    /// `STORAGE_CONFLICT` a bounded number of times, then calls the event hook.
    pub(crate) fn write<T>(&self, mut work: impl FnMut(&mut Unit<'_>) -> Result<T>) -> Result<T> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = (|| -> Result<(T, Vec<Event>)> {
                let tx = self.store.begin()?;
                // Read after `begin`: on SQLite the write lock is held by then, so the
                // units' instants follow their commit order.
                let now = self.checked_now()?;
                let mut unit = Unit {
                    tx,
                    now,
                    service: self,
                    events: Vec::new(),
                    pid: None,
                };
                let value = work(&mut unit)?;
                let events = std::mem::take(&mut unit.events);
                unit.tx.commit()?;
                Ok((value, events))
            })();
            match outcome {
                Ok((value, events)) => {
                    if let (Some(hook), false) = (&self.hook, events.is_empty()) {
                        hook.on_events(&events);
                    }
                    return Ok(value);
                }
                Err(e) if e.is_retryable() && attempt < MAX_TX_ATTEMPTS => {
                    // Exponential backoff with full jitter, so colliding processes spread out.
                    let ceiling = 2u64.saturating_pow(attempt).min(200);
                    let mut byte = [0u8; 1];
                    let jitter = if self.random.fill(&mut byte).is_ok() {
                        u64::from(byte[0])
                    } else {
                        128
                    };
                    let backoff_ms = 1 + ceiling * jitter / 255;
                    std::thread::sleep(std::time::Duration::from_millis(backoff_ms));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Runs `work` in a read-only transaction.
    pub(crate) fn read<T>(
        &self,
        work: impl FnOnce(&mut dyn Transaction, DateTime<Utc>) -> Result<T>,
    ) -> Result<T> {
        let mut tx = self.store.begin_read()?;
        let now = self.checked_now()?;
        work(&mut *tx, now)
    }
}

/// Shortest run of token characters taken for a piece of `token`: a word of a server's
/// message is rarely this long and never part of a random token.
const MIN_TOKEN_FRAGMENT: usize = 8;

/// `text` with each run of token characters (the URL-safe alphabet) at least
/// [`MIN_TOKEN_FRAGMENT`] long that is part of `token` replaced by `<redacted>`.
fn without_fragments(text: &str, token: &str) -> String {
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(is_token_char) {
        out.push_str(&rest[..start]);
        let run = &rest[start..];
        let end = run.find(|c: char| !is_token_char(c)).unwrap_or(run.len());
        let piece = &run[..end];
        if piece.len() >= MIN_TOKEN_FRAGMENT && token.contains(piece) {
            out.push_str(crate::token::REDACTED_TEXT);
        } else {
            out.push_str(piece);
        }
        rest = &run[end..];
    }
    out.push_str(rest);
    out
}

/// One unit of work: the transaction, its instant, and the events it records.
pub(crate) struct Unit<'s> {
    pub(crate) tx: Box<dyn Transaction + 's>,
    pub(crate) now: DateTime<Utc>,
    pub(crate) service: &'s InviteService,
    events: Vec<Event>,
    /// The process id, read at the unit's first id or seal (see [`RandomBlock`]).
    pid: Option<u32>,
}

impl Unit<'_> {
    /// Mints a time-ordered id (see [`IdMinter`]) from the unit's instant, the
    /// `created_at` of the rows it writes: the clock is read once per unit.
    pub(crate) fn new_id<T: From<uuid::Uuid>>(&mut self) -> Result<T> {
        let millis = u64::try_from(self.now.timestamp_millis()).unwrap_or(0);
        let pid = self.pid();
        let service = self.service;
        service
            .ids
            .mint(millis, pid, service.random.as_ref())
            .map(T::from)
    }

    /// Seals `token` for the outbox or an idempotency record, with a nonce from the
    /// service's block (one draw from the random source per [`NONCES_PER_DRAW`] seals).
    pub(crate) fn seal(&mut self, token: &Token) -> Result<String> {
        let pid = self.pid();
        let service = self.service;
        let nonce = service
            .nonces
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take(pid, service.random.as_ref())?;
        service.sealer.seal_with_nonce(token, nonce)
    }

    /// This process's id, read once per unit (what keeps a forked child off its parent's
    /// blocks of random bytes, see [`RandomBlock`]).
    fn pid(&mut self) -> u32 {
        *self.pid.get_or_insert_with(std::process::id)
    }

    /// Records an audit event in this transaction.
    pub(crate) fn event(
        &mut self,
        business_id: BusinessId,
        invitation_id: InvitationId,
        kind: EventKind,
        actor_id: Option<UserId>,
        detail: Option<String>,
    ) -> Result<()> {
        let event = Event {
            id: self.new_id()?,
            business_id,
            invitation_id,
            kind,
            actor_id,
            at: self.now,
            detail,
        };
        self.tx.append_event(&event)?;
        self.events.push(event);
        Ok(())
    }
}

/// A user's standing in a business, read once: whether they administer it, and their
/// memberships there. The insider check and the inviter's rights both derive from it.
#[derive(Clone, Debug)]
pub(crate) struct Standing {
    is_admin: bool,
    memberships: Vec<Membership>,
}

impl Standing {
    /// Reads `user`'s standing in `business`.
    pub(crate) fn read(
        tx: &mut dyn Transaction,
        user: UserId,
        business: BusinessId,
    ) -> Result<Self> {
        Ok(Standing {
            is_admin: tx.is_business_admin(business, user)?,
            memberships: tx.memberships_of_user(user, Some(business))?,
        })
    }

    /// Whether the user has a part in the business: its admin, or a member of one of its
    /// subscriptions. An outsider learns nothing of a business's data, not even that an
    /// id names one (SECURITY.md T7).
    pub(crate) fn is_insider(&self) -> bool {
        self.is_admin || !self.memberships.is_empty()
    }

    /// The user's rights as an inviter into `app` of `business` (the business this
    /// standing was read in) at `now`: the roles of their memberships there, read from
    /// the store. A membership of a subscription that is not active at `now`
    /// (suspended, expired, outside its validity window) gives no access to the app,
    /// so its role grants nothing either.
    pub(crate) fn rights(
        &self,
        tx: &mut dyn Transaction,
        user_id: UserId,
        business_id: BusinessId,
        app_id: ApplicationId,
        now: DateTime<Utc>,
    ) -> Result<InviterRights> {
        let mut roles = Vec::new();
        for membership in &self.memberships {
            if membership.app_id != app_id {
                continue;
            }
            let active = tx
                .get_subscription(business_id, membership.subscription_id)?
                .is_some_and(|s| s.is_active_at(now));
            if active && let Some(role) = tx.get_role(membership.role_id)? {
                roles.push(role);
            }
        }
        Ok(InviterRights {
            user_id,
            business_id,
            app_id,
            is_business_admin: self.is_admin,
            roles,
        })
    }
}

/// Gathers an inviter's rights in a business and app from the store.
pub(crate) fn inviter_rights(
    tx: &mut dyn Transaction,
    user_id: UserId,
    business_id: BusinessId,
    app_id: ApplicationId,
    now: DateTime<Utc>,
) -> Result<InviterRights> {
    Standing::read(tx, user_id, business_id)?.rights(tx, user_id, business_id, app_id, now)
}

/// `NOT_FOUND` unless `value` is present.
pub(crate) fn found<T>(value: Option<T>, what: &str) -> Result<T> {
    value.ok_or_else(|| Error::not_found(what))
}
