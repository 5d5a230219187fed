//! The authorization port from JavaScript (`InviteService.open({ policy })`): who may
//! invite into a business and app, and which roles they may grant (DESIGN.md invariant
//! 6), as Python's `policy=` and Rust's `AuthorizationPolicy` are.
//!
//! The object may have `mayInvite(rights)` and `mayGrant(rights, role)`, each answering
//! `true` (allow), `false` (deny), or `undefined`/`null` (the default rule decides); a
//! method it lacks is the default rule. The core asks inside the store transaction, and
//! synchronously:
//! - on the JS thread itself (an `inline` call), the method is called right there;
//! - on a libuv pool thread, the question goes to the JS thread through a weak
//!   threadsafe function and the pool thread waits for the answer (at most
//!   `ANSWER_TIMEOUT`; no answer denies).
//!
//! While a method runs, the service refuses to be called (the call throws): the
//! transaction asking holds the store, so an inline call could only wait for itself.
//! A method that throws, or answers anything else, denies (fail closed) and raises a
//! process warning (`code` `AUTHORIZATION_POLICY_FAILED`).

use std::cell::Cell;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use invite_core::{
    AuthorizationPolicy, DefaultPolicy, Error as CoreError, ErrorCode, InviterRights as CoreRights,
    Role as CoreRole,
};
use napi::bindgen_prelude::{
    FnArgs, FromNapiValue, FunctionRef, JsObjectValue, JsValue, Object, Unknown,
};
use napi::{Env, ValueType};
use napi_derive::napi;

use crate::error::{invalid_config, warn};
use crate::js_thread::{Asked, JsThread, guard};
use crate::model::Role;

/// The warning code of a policy method that threw or answered something else.
const POLICY_FAILED: &str = "AUTHORIZATION_POLICY_FAILED";

/// How long a pool thread waits for the JS thread's answer before it denies.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// What the service knows of an inviter's rights in one business and app, read fresh
/// from the store each time the policy is asked.
#[napi(object, object_from_js = false)]
#[derive(Debug, Clone)]
pub struct InviterRights {
    /// The inviter.
    pub user_id: String,
    /// The business invited into.
    pub business_id: String,
    /// The app invited into.
    pub app_id: String,
    /// Whether the inviter administers the business.
    pub is_business_admin: bool,
    /// The inviter's roles in this business's subscriptions of this app that are active
    /// now (a suspended or expired subscription's membership grants nothing).
    pub roles: Vec<Role>,
}

impl From<CoreRights> for InviterRights {
    fn from(r: CoreRights) -> Self {
        InviterRights {
            user_id: r.user_id.to_string(),
            business_id: r.business_id.to_string(),
            app_id: r.app_id.to_string(),
            is_business_admin: r.is_business_admin,
            roles: r.roles.into_iter().map(Role::from).collect(),
        }
    }
}

type MayInvite = FunctionRef<InviterRights, Unknown<'static>>;
type MayGrant = FunctionRef<FnArgs<(InviterRights, Role)>, Unknown<'static>>;

/// The guarded methods the object has.
struct Methods {
    may_invite: Option<MayInvite>,
    may_grant: Option<MayGrant>,
}

/// One question for the policy.
enum Question {
    Invite(CoreRights),
    Grant(CoreRights, CoreRole),
}

thread_local! {
    /// Whether this (JS) thread is inside a policy method.
    static IN_POLICY: Cell<bool> = const { Cell::new(false) };
}

/// The error a service call made from inside a policy method throws.
pub fn refuse_reentry() -> Option<CoreError> {
    IN_POLICY.with(Cell::get).then(|| {
        CoreError::new(
            ErrorCode::Internal,
            "the authorization policy may not call the service: it runs inside the store \
             transaction that asked it",
        )
    })
}

/// The core's `AuthorizationPolicy` backed by a JS object.
struct JsPolicy {
    methods: Arc<Methods>,
    /// Questions from pool threads, answered by `decide`.
    queue: JsThread<Asked<Question, Option<bool>>>,
}

impl AuthorizationPolicy for JsPolicy {
    fn may_invite(&self, rights: &CoreRights) -> bool {
        if self.methods.may_invite.is_none() {
            return DefaultPolicy.may_invite(rights);
        }
        self.ask(Question::Invite(rights.clone()))
            .unwrap_or_else(|| DefaultPolicy.may_invite(rights))
    }

    fn may_grant(&self, rights: &CoreRights, role: &CoreRole) -> bool {
        if self.methods.may_grant.is_none() {
            return DefaultPolicy.may_grant(rights, role);
        }
        self.ask(Question::Grant(rights.clone(), role.clone()))
            .unwrap_or_else(|| DefaultPolicy.may_grant(rights, role))
    }
}

impl JsPolicy {
    /// The object's answer (`None`: the default rule decides), asked on the JS thread.
    fn ask(&self, question: Question) -> Option<bool> {
        match self.queue.here() {
            Some(env) => decide(&env, &self.methods, question),
            // No answer in time, or none at all (the environment shut down): deny.
            None => self
                .queue
                .ask(question, ANSWER_TIMEOUT)
                .unwrap_or(Some(false)),
        }
    }
}

/// On the JS thread: calls the guarded method for `question` and reads its answer.
fn decide(env: &Env, methods: &Methods, question: Question) -> Option<bool> {
    let outer = IN_POLICY.with(|flag| flag.replace(true));
    let answered = std::panic::catch_unwind(AssertUnwindSafe(|| match question {
        Question::Invite(rights) => methods.may_invite.as_ref().map(|method| {
            method
                .borrow_back(env)
                .and_then(|m| m.call(InviterRights::from(rights)))
        }),
        Question::Grant(rights, role) => methods.may_grant.as_ref().map(|method| {
            method.borrow_back(env).and_then(|m| {
                m.call(FnArgs::from((
                    InviterRights::from(rights),
                    Role::from(role),
                )))
            })
        }),
    }));
    IN_POLICY.with(|flag| flag.set(outer));
    let answer = match answered {
        Ok(Some(Ok(answer))) => answer,
        Ok(None) => return None,
        Ok(Some(Err(error))) => {
            warn(
                env,
                POLICY_FAILED,
                &format!(
                    "the authorization policy failed, so it denied: {}",
                    error.reason
                ),
            );
            return Some(false);
        }
        Err(_) => return Some(false),
    };
    match answer.get_type() {
        Ok(ValueType::Boolean) => Some(bool::from_unknown(answer).unwrap_or(false)),
        Ok(ValueType::Undefined | ValueType::Null) => None,
        _ => {
            warn(
                env,
                POLICY_FAILED,
                "the authorization policy must answer true, false, undefined or null; it \
                 answered something else, so it denied",
            );
            Some(false)
        }
    }
}

/// Guards the object's method `name` (`undefined`/`null` when it has none).
fn guarded<Args: napi::bindgen_prelude::JsValuesTupleIntoVec>(
    env: &Env,
    policy: &Object<'_>,
    name: &'static str,
) -> Result<Option<FunctionRef<Args, Unknown<'static>>>, CoreError> {
    let unreadable = || invalid_config(format!("the policy's `{name}` cannot be read"));
    let method: Unknown<'_> = policy.get_named_property(name).map_err(|_| unreadable())?;
    match method.get_type().map_err(|_| unreadable())? {
        ValueType::Undefined | ValueType::Null => return Ok(None),
        ValueType::Function => {}
        _ => {
            return Err(invalid_config(format!(
                "the policy's `{name}` must be a function"
            )));
        }
    }
    let cannot =
        |e: napi::Error| CoreError::internal(format!("cannot hold the policy: {}", e.reason));
    guard(
        env,
        method,
        policy.to_unknown(),
        "inviteCorePolicyFailed",
        move |env, why| {
            let message = format!("the authorization policy's `{name}` threw, so it denied: {why}");
            warn(env, POLICY_FAILED, &message);
        },
    )
    .map(Some)
    .map_err(cannot)
}

/// Holds the `policy` object's methods for the service (on the JS thread, while `open`
/// reads its options): `INVALID_CONFIG` unless it has `mayInvite` or `mayGrant`, and
/// each it has is a function.
pub fn authorization_policy(
    policy: &Object<'_>,
) -> Result<Arc<dyn AuthorizationPolicy>, CoreError> {
    let env = Env::from_raw(policy.value().env);
    let methods = Arc::new(Methods {
        may_invite: guarded(&env, policy, "mayInvite")?,
        may_grant: guarded(&env, policy, "mayGrant")?,
    });
    if methods.may_invite.is_none() && methods.may_grant.is_none() {
        return Err(invalid_config(
            "the policy must have a `mayInvite(rights)` or a `mayGrant(rights, role)` method",
        ));
    }
    let cannot =
        |e: napi::Error| CoreError::internal(format!("cannot hold the policy: {}", e.reason));
    let shared = Arc::clone(&methods);
    let queue = JsThread::answering(&env, "inviteCorePolicy", move |env, question| {
        decide(env, &shared, question)
    })
    .map_err(cannot)?;
    Ok(Arc::new(JsPolicy { methods, queue }))
}
