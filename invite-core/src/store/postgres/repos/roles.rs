//! Application roles.

use crate::error::{Error, Result};
use crate::ids::{ApplicationId, RoleId};
use crate::model::Role;
use crate::store::RoleRepo;
use crate::store::postgres::error::already_exists;
use crate::store::postgres::rows::{self, role_cols};
use crate::store::postgres::tx::{PgTx, get};

const INSERT: &str = "
WITH ins AS (
    INSERT INTO roles (id, app_id, key, name, permissions, created_at)
    VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM ins";

const INSERT_SEEN: &str = "
SELECT coalesce(bool_or(xact = pg_current_xact_id_if_assigned()
                        OR pg_visible_in_snapshot(xact, $1::text::pg_snapshot)), false)
FROM roles WHERE id = $2 OR (app_id = $3 AND key = $4)";

/// Found, key taken by another role of the app, updated (only when not taken).
const UPDATE: &str = "
WITH found AS (
    SELECT EXISTS (SELECT 1 FROM roles WHERE id = $1) AS found,
           EXISTS (SELECT 1 FROM roles WHERE app_id = $2 AND key = $3 AND id <> $1) AS taken
), upd AS (
    UPDATE roles
    SET app_id = $2, key = $3, name = $4, permissions = $5, created_at = $6,
        xact = pg_current_xact_id()
    WHERE id = $1 AND NOT (SELECT taken FROM found)
    RETURNING 1
)
SELECT found, taken FROM found";

const GET: &str = concat!("SELECT ", role_cols!(), " FROM roles WHERE id = $1");
const LIST: &str = concat!(
    "SELECT ",
    role_cols!(),
    " FROM roles WHERE app_id = $1 ORDER BY id"
);

impl RoleRepo for PgTx {
    fn insert_role(&mut self, role: &Role) -> Result<()> {
        let permissions: Vec<&str> = role.permissions.iter().map(String::as_str).collect();
        self.insert_unique(
            "a role with this key",
            INSERT,
            &[
                role.id.as_uuid(),
                role.app_id.as_uuid(),
                &role.key,
                &role.name,
                &permissions,
                &role.created_at,
            ],
            INSERT_SEEN,
            &[role.id.as_uuid(), role.app_id.as_uuid(), &role.key],
        )
    }

    fn update_role(&mut self, role: &Role) -> Result<()> {
        let permissions: Vec<&str> = role.permissions.iter().map(String::as_str).collect();
        let row = self.one(
            UPDATE,
            &[
                role.id.as_uuid(),
                role.app_id.as_uuid(),
                &role.key,
                &role.name,
                &permissions,
                &role.created_at,
            ],
        )?;
        if get::<bool, _>(&row, "taken")? {
            return Err(already_exists("a role with this key"));
        }
        if !get::<bool, _>(&row, "found")? {
            return Err(Error::not_found("role"));
        }
        Ok(())
    }

    fn get_role(&mut self, id: RoleId) -> Result<Option<Role>> {
        self.opt(GET, &[id.as_uuid()])?
            .map(|r| rows::role(&r))
            .transpose()
    }

    fn list_roles(&mut self, app: ApplicationId) -> Result<Vec<Role>> {
        self.rows(LIST, &[app.as_uuid()])?
            .iter()
            .map(rows::role)
            .collect()
    }
}
