//! Examples for invite-core.
