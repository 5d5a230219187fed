//! The authorization port from Python (`policy=obj`): who may invite into a business
//! and app, and which roles they may grant (DESIGN.md invariant 6).
//!
//! The object may define `may_invite(rights)` and `may_grant(rights, role)`, each
//! answering `True` (allow), `False` (deny) or `None` (the default rule decides); a
//! method it does not define (its lookup raises `AttributeError`) is the default rule.
//! The core asks on send, resend, revoke, retry of delivery, accept and in the page's
//! option lists, inside the store transaction, so a method must be quick and must not
//! call the service (such a call raises `RuntimeError`). A method that raises, whose
//! lookup raises anything but `AttributeError`, or that answers anything else, denies
//! (fail closed); the exception is logged like an event hook's (logger `invite_core`).

use std::cell::Cell;
use std::sync::Arc;

use invite_core::{AuthorizationPolicy, DefaultPolicy, InviterRights, Role};
use pyo3::exceptions::{PyAttributeError, PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::PyBool;

use crate::callbacks::{Callback, interrupted, refuse_async, report};
use crate::convert::{record, wrap_all, wrapper};
use crate::model::PyRole;

wrapper!(
    /// What the service knows of an inviter's rights in one business and app, read
    /// fresh from the store each time the policy is asked.
    PyInviterRights => "InviterRights", InviterRights
);
record!(PyInviterRights, repr = [user_id, business_id, app_id, is_business_admin], {
    /// The inviter.
    user_id -> String = |r| r.user_id.to_string();
    /// The business invited into.
    business_id -> String = |r| r.business_id.to_string();
    /// The app invited into.
    app_id -> String = |r| r.app_id.to_string();
    /// Whether the inviter administers the business.
    is_business_admin -> bool = |r| r.is_business_admin;
    /// The inviter's roles in this business's subscriptions of this app that are active
    /// now (a suspended or expired subscription's membership grants nothing).
    roles -> Vec<PyRole> = |r| wrap_all(r.roles.clone());
});

/// The policy's two methods, by their Python names.
const METHODS: [&str; 2] = ["may_invite", "may_grant"];

thread_local! {
    /// Whether this thread is inside a policy method (inside a store transaction).
    static IN_POLICY: Cell<bool> = const { Cell::new(false) };
}

/// `RuntimeError` when a policy method calls the service: the transaction asking the
/// policy holds the store, so the call could only wait for itself.
pub(crate) fn refuse_reentry() -> PyResult<()> {
    if IN_POLICY.with(Cell::get) {
        return Err(PyRuntimeError::new_err(
            "the authorization policy may not call the service: it runs inside the \
             store transaction that asked it",
        ));
    }
    Ok(())
}

/// Checks a `policy=` object: at least one of the methods, each a plain (not `async`)
/// callable.
pub(crate) fn check(py: Python<'_>, policy: &Bound<'_, PyAny>) -> PyResult<()> {
    let mut found = false;
    for name in METHODS {
        if let Some(method) = method_of(py, policy, name)? {
            if !method.is_callable() {
                return Err(PyTypeError::new_err(format!(
                    "the policy's `{name}` must be callable"
                )));
            }
            refuse_async(py, &method, &format!("the policy's `{name}`"))?;
            found = true;
        }
    }
    if !found {
        return Err(PyTypeError::new_err(
            "policy must have a `may_invite(rights)` or a `may_grant(rights, role)` method",
        ));
    }
    Ok(())
}

/// The object's `name` method; `None` when it has none (`AttributeError`). Any other
/// error while looking it up (a raising property or `__getattr__`) is an error, so the
/// caller denies (fail closed) instead of falling back to the default rule.
fn method_of<'py>(
    py: Python<'py>,
    policy: &Bound<'py, PyAny>,
    name: &str,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    match policy.getattr(name) {
        Ok(method) => Ok(Some(method)),
        Err(err) if err.is_instance_of::<PyAttributeError>(py) => Ok(None),
        Err(err) => Err(err),
    }
}

/// The core's `AuthorizationPolicy` over a Python object.
pub(crate) struct PythonPolicy(pub(crate) Arc<Callback>);

impl AuthorizationPolicy for PythonPolicy {
    fn may_invite(&self, rights: &InviterRights) -> bool {
        self.ask("may_invite", rights, None)
            .unwrap_or_else(|| DefaultPolicy.may_invite(rights))
    }

    fn may_grant(&self, rights: &InviterRights, role: &Role) -> bool {
        self.ask("may_grant", rights, Some(role))
            .unwrap_or_else(|| DefaultPolicy.may_grant(rights, role))
    }
}

impl PythonPolicy {
    /// The object's answer; `None` when the default rule decides (no such method, or
    /// it answered `None`). Looking the method up, calling it or reading its answer
    /// failing denies.
    fn ask(&self, name: &str, rights: &InviterRights, role: Option<&Role>) -> Option<bool> {
        if interrupted() {
            return Some(false);
        }
        Python::attach(|py| {
            // Cleared by the garbage collector: the service is being dropped.
            let policy = self.0.get(py)?;
            let what = "the authorization policy failed, so it denied";
            IN_POLICY.with(|flag| flag.set(true));
            let answer = method_of(py, &policy, name).and_then(|found| match found {
                None => Ok(None),
                Some(method) => {
                    let rights = PyInviterRights::from(rights.clone());
                    match role {
                        None => method.call1((rights,)),
                        Some(role) => method.call1((rights, PyRole::from(role.clone()))),
                    }
                    .map(Some)
                }
            });
            IN_POLICY.with(|flag| flag.set(false));
            let answer = match answer {
                Ok(Some(answer)) => Ok(answer),
                Ok(None) => return None,
                Err(err) => Err(err),
            };
            match answer {
                Ok(answer) if answer.is_none() => None,
                Ok(answer) => match answer.cast::<PyBool>() {
                    Ok(decision) => Some(decision.is_true()),
                    Err(_) => {
                        let got = answer
                            .get_type()
                            .name()
                            .map_or_else(|_| "something else".to_owned(), |n| n.to_string());
                        let err = PyTypeError::new_err(format!(
                            "the policy must answer True, False or None, not a {got}"
                        ));
                        report(py, err, what);
                        Some(false)
                    }
                },
                Err(err) => {
                    report(py, err, what);
                    Some(false)
                }
            }
        })
    }
}
