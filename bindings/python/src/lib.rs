//! Python bindings for invite-core: the native module `invite_core._native`.
//!
//! Thin wrappers only: parse text into ids and enums, fill defaults from the core,
//! release the GIL around store work, map errors. Business rules live in the core.

mod accept;
mod bulk;
mod callbacks;
mod catalog;
mod config;
mod convert;
mod dispatch;
mod error;
mod form;
mod invitation;
mod lifecycle;
mod listing;
mod mailer;
mod model;
mod page;
mod policy;
mod queries;
mod send;
mod service;

use invite_core::form::{HintCode, USER_OPTIONS, UserMode};
use invite_core::{DeliveryState, EventKind, InvitationStatus, OutboxState, SubscriptionStatus};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// Adds `name = typing.Literal[values...]`, built from the core's own lists.
fn add_literal(m: &Bound<'_, PyModule>, name: &str, values: Vec<&'static str>) -> PyResult<()> {
    let py = m.py();
    let literal = py.import("typing")?.getattr("Literal")?;
    m.add(name, literal.get_item(PyTuple::new(py, values)?)?)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("USER_OPTIONS", USER_OPTIONS)?;
    m.add("MAX_BULK_ROWS", invite_core::service::MAX_BULK_ROWS)?;
    // Whether this module was compiled without optimisations (benchmarks refuse to
    // report figures from it).
    m.add("_debug_build", cfg!(debug_assertions))?;
    m.add_class::<service::PyInviteService>()?;
    m.add_class::<config::PyConfig>()?;
    m.add_class::<config::PyLimits>()?;
    m.add_class::<config::PyDeliveryConfig>()?;
    m.add_class::<config::PyManualClock>()?;
    m.add_class::<config::PyStore>()?;
    m.add_class::<page::PyPage>()?;
    m.add_class::<model::PyBusiness>()?;
    m.add_class::<model::PyApp>()?;
    m.add_class::<model::PySubscription>()?;
    m.add_class::<model::PySeatUsage>()?;
    m.add_class::<model::PySeatCounts>()?;
    m.add_class::<model::PyRole>()?;
    m.add_class::<model::PyUser>()?;
    m.add_class::<model::PyMembership>()?;
    m.add_class::<model::PyBusinessOption>()?;
    m.add_class::<model::PySubscriptionOption>()?;
    m.add_class::<invitation::PyInvitation>()?;
    m.add_class::<invitation::PyDeliveryStatus>()?;
    m.add_class::<invitation::PyEvent>()?;
    m.add_class::<invitation::PyOutboxMessage>()?;
    m.add_class::<invitation::PySentInvitation>()?;
    m.add_class::<invitation::PyAccepted>()?;
    m.add_class::<invitation::PyInvitationPreview>()?;
    m.add_class::<dispatch::PyInvitationEmail>()?;
    m.add_class::<dispatch::PyDispatchReport>()?;
    m.add_class::<mailer::PyFileMailer>()?;
    m.add_class::<mailer::PySmtpMailer>()?;
    m.add_class::<callbacks::PyEmailContext>()?;
    m.add_class::<policy::PyInviterRights>()?;
    m.add_class::<bulk::PyBulkSendResult>()?;
    m.add_class::<bulk::PyBulkRowResult>()?;
    m.add_class::<form::PyInviteForm>()?;
    m.add_class::<form::PyFormView>()?;
    m.add_class::<form::PyRejection>()?;
    m.add_class::<form::PySubmitResult>()?;
    m.add_function(wrap_pyfunction!(callbacks::render_default_email, m)?)?;
    m.add_function(wrap_pyfunction!(error::error_codes, m)?)?;
    m.add_function(wrap_pyfunction!(error::error_kinds, m)?)?;
    m.add_function(wrap_pyfunction!(error::field_codes, m)?)?;
    m.add_function(wrap_pyfunction!(error::error_class_name, m)?)?;
    m.add_function(wrap_pyfunction!(error::_error_for_code, m)?)?;
    add_literal(m, "ErrorCode", error::error_codes())?;
    add_literal(m, "ErrorKind", error::error_kinds())?;
    add_literal(m, "FieldCode", error::field_codes())?;
    add_literal(
        m,
        "InvitationStatus",
        InvitationStatus::ALL.iter().map(|s| s.as_str()).collect(),
    )?;
    add_literal(
        m,
        "EventKind",
        EventKind::ALL.iter().map(|k| k.as_str()).collect(),
    )?;
    add_literal(
        m,
        "SubscriptionStatus",
        SubscriptionStatus::ALL.iter().map(|s| s.as_str()).collect(),
    )?;
    add_literal(
        m,
        "DeliveryState",
        DeliveryState::ALL.iter().map(|s| s.as_str()).collect(),
    )?;
    add_literal(
        m,
        "OutboxState",
        OutboxState::ALL.iter().map(|s| s.as_str()).collect(),
    )?;
    add_literal(
        m,
        "HintCode",
        HintCode::ALL.iter().map(|h| h.as_str()).collect(),
    )?;
    add_literal(
        m,
        "UserMode",
        vec![UserMode::Existing.as_str(), UserMode::New.as_str()],
    )?;
    Ok(())
}
