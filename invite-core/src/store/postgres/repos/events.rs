//! The audit log.

use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::ids::{BusinessId, EventId, InvitationId, UserId};
use crate::model::Event;
use crate::store::EventRepo;
use crate::store::postgres::error::already_exists;
use crate::store::postgres::rows::{self, event_cols};
use crate::store::postgres::tx::{PgTx, WriteLock, after_id, get_u32, limit};

const INSERT: &str = "
INSERT INTO events (id, business_id, invitation_id, kind, actor_id, at, detail)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT DO NOTHING";

/// The `resent` events of an actor since an instant (the partial index of migration 2).
const COUNT_RESENT_BY_ACTOR: &str =
    "SELECT count(*) FROM events WHERE actor_id = $1 AND kind = 'resent' AND at >= $2";

/// The business's events (bounds always given: see `tx::after_id`).
const LIST: &str = concat!(
    "SELECT ",
    event_cols!(),
    " FROM events WHERE business_id = $1 AND id > $2 ORDER BY id LIMIT $3"
);
/// One invitation's events, through its own index.
const LIST_OF_INVITATION: &str = concat!(
    "SELECT ",
    event_cols!(),
    " FROM events WHERE business_id = $1 AND invitation_id = $2 AND id > $3 \
      ORDER BY id LIMIT $4"
);

impl EventRepo for PgTx {
    fn append_event(&mut self, e: &Event) -> Result<()> {
        let actor = e.actor_id.map(|a| *a.as_uuid());
        let inserted = self.exec(
            INSERT,
            &[
                e.id.as_uuid(),
                e.business_id.as_uuid(),
                e.invitation_id.as_uuid(),
                &e.kind.as_str(),
                &actor,
                &e.at,
                &e.detail,
            ],
        )?;
        match inserted {
            0 => Err(already_exists("event")),
            _ => Ok(()),
        }
    }

    fn list_events(
        &mut self,
        business: BusinessId,
        invitation: Option<InvitationId>,
        after: Option<EventId>,
        n: usize,
    ) -> Result<Vec<Event>> {
        let after = after_id(after.as_ref().map(EventId::as_uuid));
        let rows = match invitation {
            Some(i) => self.rows(
                LIST_OF_INVITATION,
                &[business.as_uuid(), i.as_uuid(), &after, &limit(n)],
            )?,
            None => self.rows(LIST, &[business.as_uuid(), &after, &limit(n)])?,
        };
        rows.iter().map(rows::event).collect()
    }

    fn count_resent_by_actor_since(&mut self, actor: UserId, since: DateTime<Utc>) -> Result<u32> {
        self.lock_for_write(WriteLock::InviterBudget, actor.to_string())?;
        get_u32(
            &self.one(COUNT_RESENT_BY_ACTOR, &[actor.as_uuid(), &since])?,
            0,
        )
    }
}
