//! The port itself: rollback on drop, unique keys, business scoping.

use std::sync::Arc;

use chrono::Utc;
use invite_core::{Business, BusinessId, ErrorCode, Store, User, UserId};

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
