//! The port itself: rollback on drop, unique keys, business scoping.

use std::sync::Arc;

use chrono::Utc;
use invite_core::{
    Business, BusinessId, DeliveryState, DeliveryStatus, ErrorCode, InvitationId, Store, User,
    UserId,
};

use crate::common::World;

pub fn rollback_on_drop_leaves_nothing(store: Arc<dyn Store>) {
    let id = BusinessId::from_uuid(uuid::Uuid::now_v7());
    {
        let mut tx = store.begin().unwrap();
        tx.insert_business(&Business {
            id,
            name: "Ghost".into(),
            created_at: Utc::now(),
        })
        .unwrap();
        assert!(
            tx.get_business(id).unwrap().is_some(),
            "a transaction sees its own writes"
        );
    }
    assert!(
        store.begin().unwrap().get_business(id).unwrap().is_none(),
        "dropped without commit: rolled back"
    );
    let mut tx = store.begin().unwrap();
    tx.insert_business(&Business {
        id,
        name: "Real".into(),
        created_at: Utc::now(),
    })
    .unwrap();
    tx.commit().unwrap();
    assert_eq!(
        store
            .begin_read()
            .unwrap()
            .get_business(id)
            .unwrap()
            .unwrap()
            .name,
        "Real"
    );
}

pub fn unique_keys_and_scoping(store: Arc<dyn Store>) {
    let user = |email: &str| User {
        id: UserId::from_uuid(uuid::Uuid::now_v7()),
        email: email.into(),
        email_key: email.to_lowercase(),
        first_name: "F".into(),
        last_name: "L".into(),
        created_at: Utc::now(),
    };
    let mut tx = store.begin().unwrap();
    tx.insert_user(&user("u@example.com")).unwrap();
    assert_eq!(
        tx.insert_user(&user("U@example.com")).unwrap_err().code(),
        ErrorCode::AlreadyExists
    );
    let ghost = user("g@example.com");
    assert_eq!(
        tx.update_user(&ghost).unwrap_err().code(),
        ErrorCode::NotFound
    );
    let b = Business {
        id: BusinessId::from_uuid(uuid::Uuid::now_v7()),
        name: "B".into(),
        created_at: Utc::now(),
    };
    assert_eq!(
        tx.update_business(&b).unwrap_err().code(),
        ErrorCode::NotFound
    );
    tx.commit().unwrap();
    let mut tx = store.begin_read().unwrap();
    assert!(tx.get_user_by_email_key("u@example.com").unwrap().is_some());
    let found = tx.scan_user_keys("u@", None, 10).unwrap();
    assert_eq!(found.len(), 1);
}

/// `update_delivery` writes the delivery status and nothing else, only within the
/// invitation's business, and rolls back with its transaction.
pub fn delivery_updates_touch_nothing_else(store: Arc<dyn Store>) {
    let w = World::new(store.clone());
    let sent = w
        .service
        .send(&w.invite_new("Dee", "Livery", "dee@example.com"))
        .unwrap();
    let (business, id) = (w.business.id, sent.invitation.id);
    let read = |store: &Arc<dyn Store>| {
        let mut tx = store.begin_read().unwrap();
        tx.get_invitation(business, id).unwrap().unwrap()
    };
    let before = read(&store);
    let failed = DeliveryStatus {
        state: DeliveryState::Failed,
        attempts: 3,
        last_error: Some("550 mailbox unavailable".into()),
        delivered_at: None,
    };
    let delivered = DeliveryStatus {
        state: DeliveryState::Sent,
        attempts: 4,
        last_error: None,
        delivered_at: Some(w.clock_now()),
    };
    for delivery in [&failed, &delivered, &failed] {
        let mut tx = store.begin().unwrap();
        tx.update_delivery(business, id, delivery).unwrap();
        tx.commit().unwrap();
        let mut expected = before.clone();
        expected.invitation.delivery = delivery.clone();
        assert_eq!(read(&store), expected, "{delivery:?}");
    }
    {
        let mut tx = store.begin().unwrap();
        tx.update_delivery(business, id, &delivered).unwrap();
    }
    assert_eq!(
        read(&store).invitation.delivery,
        failed,
        "dropped: rolled back"
    );
    let mut tx = store.begin().unwrap();
    for (business, id) in [
        (w.other_business.id, id),
        (business, InvitationId::from_uuid(uuid::Uuid::now_v7())),
    ] {
        assert_eq!(
            tx.update_delivery(business, id, &delivered)
                .unwrap_err()
                .code(),
            ErrorCode::NotFound
        );
    }
}

/// `seats_for_update` reads a subscription's counters and cap together, in write and
/// read-only transactions, only within the subscription's business.
pub fn seats_are_read_with_their_cap(store: Arc<dyn Store>) {
    let w = World::new(store.clone());
    w.service
        .send(&w.invite_new("Cap", "Read", "cap@example.com"))
        .unwrap();
    let (business, capped) = (w.business.id, w.subscription.id);
    let mut tx = store.begin().unwrap();
    let (counts, cap) = tx.seats_for_update(business, capped).unwrap();
    assert_eq!(counts, tx.seat_counts_for_update(business, capped).unwrap());
    assert_eq!((counts.used, counts.reserved), (0, 1));
    assert_eq!(cap, w.subscription.seats);
    assert!(cap.is_some());
    let (_, cap) = tx.seats_for_update(business, w.unlimited.id).unwrap();
    assert_eq!(cap, None, "unlimited");
    for (business, subscription) in [
        (w.other_business.id, capped),
        (business, w.other_subscription.id),
    ] {
        assert_eq!(
            tx.seats_for_update(business, subscription)
                .unwrap_err()
                .code(),
            ErrorCode::NotFound
        );
    }
    drop(tx);
    let mut read = store.begin_read().unwrap();
    assert_eq!(
        read.seats_for_update(business, capped).unwrap(),
        (counts, w.subscription.seats)
    );
}
