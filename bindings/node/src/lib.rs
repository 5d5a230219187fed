//! Node bindings for invite-core (napi-rs): the `InviteService` class, its records as
//! plain camelCase objects with `Date` timestamps, errors with stable `.code`s, and
//! mailers for the outbox (JavaScript ones, or the core's file and SMTP mailers
//! configured from JavaScript). Every store call runs on the libuv pool, or inline on
//! the calling thread (`execution: 'inline'`); a dispatch always runs on a thread of its
//! own.
//!
//! One file per core area; no business rules here, only parsing, defaults and mapping.

mod bulk;
mod catalog;
mod config;
mod convert;
mod dispatch;
mod error;
mod form;
mod hook;
mod invitee;
mod js_thread;
mod lifecycle;
mod listing;
mod mailer;
mod model;
mod policy;
mod queries;
mod render;
mod service;
mod shape;
mod task;
