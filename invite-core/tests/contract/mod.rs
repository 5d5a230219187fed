//! The store contract suite: the whole invitation flow, every DESIGN.md invariant and
//! the SECURITY.md threats that the service guards, run unchanged on any `Store`.
//!
//! Use from a test file:
//! ```ignore
//! mod common;
//! #[macro_use]
//! mod contract;
//! contract_tests!(|| Some(Arc::new(InMemoryStore::new()) as Arc<dyn Store>));
//! ```
//! The factory returns `None` to skip (a server that is not available).
#![allow(dead_code, reason = "shared between test binaries")]

pub mod authz_model;
pub mod bulk;
pub mod bulk_agreement;
pub mod chaos;
pub mod faults;
pub mod form_agreement;
pub mod form_model;
pub mod guide;
pub mod idempotency;
pub mod identity_model;
pub mod invariants;
pub mod lifecycle;
pub mod limits;
pub mod limits_model;
pub mod model;
pub mod races;
pub mod store_level;

/// A result's error code, or `Ok(())`: what the properties compare with their rules.
pub fn code<T>(result: &invite_core::Result<T>) -> Result<(), invite_core::ErrorCode> {
    result.as_ref().map(|_| ()).map_err(|e| e.code())
}

/// Generates one `#[test]` per contract function, each on a fresh store, and one per
/// property, which takes the factory to make a fresh store per case.
#[macro_export]
macro_rules! contract_tests {
    ($factory:expr) => {
        contract_tests!(@each $factory;
            guide::invite_existing_user,
            guide::invite_new_user,
            guide::check_seats_before_inviting,
            guide::app_list_empty_until_business_has_apps,
            guide::subscription_list_empty_without_business_and_app,
            guide::missing_fields_are_all_reported,
            guide::each_missing_field_has_its_own_error,
            guide::invalid_email,
            guide::seat_limit,
            guide::invitee_accepts,
            guide::resend_after_not_received,
            guide::user_search_is_prefix_case_insensitive_and_paginated,
            guide::user_search_pages_through_names_that_fold_long,
            guide::user_search_finds_idn_domains_in_either_form,
            guide::inviter_sees_only_grantable_roles,
            invariants::seats_reserved_released_and_converted,
            invariants::managing_an_invitation_needs_the_right_to_grant_its_role,
            invariants::a_membership_takes_the_seat_of_an_overdue_invitation,
            invariants::one_pending_invitation_per_email,
            invariants::already_member_is_refused,
            invariants::tokens_are_hashed_rotated_and_single_use,
            invariants::expiry_boundary_is_exact,
            invariants::a_clock_finer_than_microseconds_keeps_the_stores_in_step,
            invariants::expiry_bounds_are_validated,
            invariants::tenant_isolation,
            invariants::no_privilege_escalation,
            invariants::rights_come_only_from_active_subscriptions,
            invariants::accept_rechecks_subscription_role_and_identity,
            invariants::wrong_identity_cannot_accept,
            invariants::peeking_never_changes_state,
            invariants::failed_send_leaves_nothing,
            invariants::unicode_and_case_identity,
            lifecycle::revoke_is_final,
            lifecycle::a_clock_past_the_years_served_changes_nothing,
            lifecycle::decline_releases_seat,
            lifecycle::sweep_expires_and_releases,
            lifecycle::resend_revives_expired_when_a_seat_is_free,
            lifecycle::resend_revives_past_a_newer_overdue_invitation,
            lifecycle::resend_to_someone_who_joined_meanwhile_is_already_member,
            lifecycle::resend_needs_the_app_still_enabled,
            lifecycle::a_pending_invitation_holds_the_only_seat_of_its_invitee,
            lifecycle::overdue_invitations_count_against_no_limit,
            lifecycle::a_mailer_failure_with_control_characters_is_recorded_like_any_other,
            lifecycle::a_cursor_reads_only_the_listing_that_wrote_it,
            lifecycle::list_filters_and_pagination,
            lifecycle::a_status_filter_reads_the_status_at_the_listing,
            lifecycle::events_record_every_transition,
            lifecycle::dispatch_retries_and_marks_delivery,
            lifecycle::a_panicking_mailer_or_renderer_fails_only_its_email,
            lifecycle::dispatch_hands_each_claim_to_the_mailer_as_one_batch,
            lifecycle::a_refusal_quoting_the_link_is_recorded_without_the_token,
            lifecycle::a_claim_past_its_lease_never_overwrites_a_newer_one,
            lifecycle::catalog_crud,
            races::concurrent_accepts_of_one_token,
            races::threads_never_oversell,
            races::concurrent_sends_never_pass_the_daily_budget,
            races::concurrent_sends_never_pass_the_pending_cap,
            races::concurrent_changes_of_different_fields_all_stick,
            chaos::threads_doing_everything_keep_every_invariant,
            chaos::concurrent_dispatchers_deliver_each_email_once,
            store_level::rollback_on_drop_leaves_nothing,
            store_level::unique_keys_and_scoping,
            store_level::delivery_updates_touch_nothing_else,
            store_level::seats_are_read_with_their_cap,
            form_model::walk_through_a_new_user_invitation,
            form_model::walk_through_an_existing_user_invitation,
            form_model::upstream_changes_clear_downstream_and_clear_resets,
            form_model::troubleshooting_missing_fields_and_bad_email,
            form_model::troubleshooting_seats_subscription_and_duplicates,
            bulk::bulk_rows_succeed_and_fail_independently,
            bulk::bulk_of_ten_thousand,
            bulk::bulk_drafts_report_malformed_ids,
            form_model::long_searches_are_field_errors_and_lists_say_when_truncated,
            form_model::a_resubmitted_form_under_its_key_replays_the_first_send,
            form_model::an_overdue_invitation_holds_no_seat_on_the_form,
            form_model::many_overdue_invitations_hold_no_seat_on_the_form,
            form_model::submit_names_problems_as_the_form_fields,
            form_model::a_long_search_does_not_stop_a_complete_form,
            idempotency::same_key_returns_the_first_result,
            idempotency::a_replay_needs_the_rights_to_send_at_that_moment,
            idempotency::a_replay_under_another_outbox_key_is_invalid_config,
            idempotency::a_bad_key_is_reported_with_every_other_problem,
            idempotency::a_replayed_row_keeps_its_help_and_retry_after,
            idempotency::the_sweep_deletes_idempotency_records_past_their_lifetime,
            idempotency::the_sweep_finds_expired_records_by_expiry,
            idempotency::same_key_from_sixteen_threads,
            limits::daily_budget_per_inviter,
            limits::resend_cooldown,
            limits::pending_cap_per_business,
            limits::resends_count_against_the_daily_budget,
            limits::reviving_an_expired_invitation_respects_the_pending_cap,
            faults::every_failed_step_leaves_nothing_half_written,
            faults::bulk_faults_fail_the_whole_batch_and_leave_nothing_half_written,
            faults::dispatch_faults_lose_nothing_and_duplicate_only_by_id;
            // Properties: each takes the factory and makes a fresh store per case.
            model::run as state_machine_matches_the_reference_model,
            authz_model::run as who_may_invite_and_grant_follows_the_rule,
            limits_model::run as limits_follow_the_model,
            identity_model::run as one_person_per_canonical_email,
            bulk_agreement::run as bulk_rows_answer_as_single_sends,
            form_agreement::run as the_form_and_the_service_agree
        );
    };
    (@each $factory:expr;
        $($module:ident :: $name:ident),* ;
        $($prop_module:ident :: run as $prop_name:ident),* $(,)?) => {
        mod contract_suite {
            #[allow(unused_imports, reason = "the factory may name these")]
            use super::*;
            $(
                #[test]
                fn $name() {
                    let factory = $factory;
                    match factory() {
                        Some(store) => $crate::contract::$module::$name(store),
                        None => eprintln!("SKIPPED: {} (store not available)", stringify!($name)),
                    }
                }
            )*
            $(
                #[test]
                fn $prop_name() {
                    let factory = $factory;
                    $crate::contract::$prop_module::run(&factory);
                }
            )*
        }
    };
}
