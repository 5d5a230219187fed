//! The audit log.

use chrono::{DateTime, Utc};
use rusqlite::{Row, params};

use super::after;
use crate::error::Result;
use crate::ids::{BusinessId, EventId, InvitationId, UserId};
use crate::model::Event;
use crate::store::EventRepo;
use crate::store::sqlite::codec::{self, Ts};
use crate::store::sqlite::tx::SqliteTx;

macro_rules! cols {
    () => {
        "id, business_id, invitation_id, kind, actor_id, at, detail"
    };
}

fn event_row(row: &Row<'_>) -> rusqlite::Result<Event> {
    Ok(Event {
        id: row.get(0)?,
        business_id: row.get(1)?,
        invitation_id: row.get(2)?,
        kind: row.get(3)?,
        actor_id: row.get(4)?,
        at: row.get::<_, Ts>(5)?.0,
        detail: row.get(6)?,
    })
}

impl EventRepo for SqliteTx<'_> {
    fn append_event(&mut self, e: &Event) -> Result<()> {
        self.exec(
            concat!(
                "INSERT INTO events (",
                cols!(),
                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ),
            params![
                e.id,
                e.business_id,
                e.invitation_id,
                e.kind,
                e.actor_id,
                Ts(e.at),
                e.detail
            ],
        )?;
        Ok(())
    }

    fn list_events(
        &mut self,
        business: BusinessId,
        invitation: Option<InvitationId>,
        after_id: Option<EventId>,
        limit: usize,
    ) -> Result<Vec<Event>> {
        let (after_id, limit) = (after(after_id), codec::limit(limit));
        match invitation {
            Some(invitation) => self.all(
                concat!(
                    "SELECT ",
                    cols!(),
                    " FROM events WHERE invitation_id = ?1 AND business_id = ?2",
                    " AND id > ?3 ORDER BY id LIMIT ?4"
                ),
                params![invitation, business, after_id, limit],
                event_row,
            ),
            None => self.all(
                concat!(
                    "SELECT ",
                    cols!(),
                    " FROM events WHERE business_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
                ),
                params![business, after_id, limit],
                event_row,
            ),
        }
    }

    fn count_resent_by_actor_since(&mut self, actor: UserId, since: DateTime<Utc>) -> Result<u32> {
        self.count(
            "SELECT COUNT(*) FROM events INDEXED BY events_resent_by_actor
             WHERE actor_id = ?1 AND kind = 'resent' AND at >= ?2",
            params![actor, Ts(since)],
        )
    }
}
