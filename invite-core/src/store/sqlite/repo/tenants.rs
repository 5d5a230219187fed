//! Businesses, apps, enabled apps and business admins.

use rusqlite::{Row, params};

use crate::error::{Error, Result};
use crate::ids::{ApplicationId, BusinessId, UserId};
use crate::model::{Application, Business};
use crate::store::TenantRepo;
use crate::store::sqlite::codec::Ts;
use crate::store::sqlite::tx::SqliteTx;

fn business_row(row: &Row<'_>) -> rusqlite::Result<Business> {
    Ok(Business {
        id: row.get(0)?,
        name: row.get(1)?,
        created_at: row.get::<_, Ts>(2)?.0,
    })
}

fn app_row(row: &Row<'_>) -> rusqlite::Result<Application> {
    Ok(Application {
        id: row.get(0)?,
        name: row.get(1)?,
        created_at: row.get::<_, Ts>(2)?.0,
    })
}

impl TenantRepo for SqliteTx<'_> {
    fn insert_business(&mut self, business: &Business) -> Result<()> {
        self.exec(
            "INSERT INTO businesses (id, name, created_at) VALUES (?1, ?2, ?3)",
            params![business.id, business.name, Ts(business.created_at)],
        )?;
        Ok(())
    }

    fn update_business(&mut self, business: &Business) -> Result<()> {
        let changed = self.exec(
            "UPDATE businesses SET name = ?2, created_at = ?3 WHERE id = ?1",
            params![business.id, business.name, Ts(business.created_at)],
        )?;
        if changed == 0 {
            return Err(Error::not_found("business"));
        }
        Ok(())
    }

    fn get_business(&mut self, id: BusinessId) -> Result<Option<Business>> {
        self.one(
            "SELECT id, name, created_at FROM businesses WHERE id = ?1",
            params![id],
            business_row,
        )
    }

    fn list_businesses(&mut self) -> Result<Vec<Business>> {
        self.all(
            "SELECT id, name, created_at FROM businesses ORDER BY id",
            [],
            business_row,
        )
    }

    fn insert_app(&mut self, app: &Application) -> Result<()> {
        self.exec(
            "INSERT INTO apps (id, name, created_at) VALUES (?1, ?2, ?3)",
            params![app.id, app.name, Ts(app.created_at)],
        )?;
        Ok(())
    }

    fn update_app(&mut self, app: &Application) -> Result<()> {
        let changed = self.exec(
            "UPDATE apps SET name = ?2, created_at = ?3 WHERE id = ?1",
            params![app.id, app.name, Ts(app.created_at)],
        )?;
        if changed == 0 {
            return Err(Error::not_found("app"));
        }
        Ok(())
    }

    fn get_app(&mut self, id: ApplicationId) -> Result<Option<Application>> {
        self.one(
            "SELECT id, name, created_at FROM apps WHERE id = ?1",
            params![id],
            app_row,
        )
    }

    fn list_apps(&mut self) -> Result<Vec<Application>> {
        self.all(
            "SELECT id, name, created_at FROM apps ORDER BY id",
            [],
            app_row,
        )
    }

    fn set_app_enabled(
        &mut self,
        business: BusinessId,
        app: ApplicationId,
        enabled: bool,
    ) -> Result<()> {
        let sql = if enabled {
            "INSERT OR IGNORE INTO business_apps (business_id, app_id) VALUES (?1, ?2)"
        } else {
            "DELETE FROM business_apps WHERE business_id = ?1 AND app_id = ?2"
        };
        self.exec(sql, params![business, app])?;
        Ok(())
    }

    fn enabled_apps(&mut self, business: BusinessId) -> Result<Vec<ApplicationId>> {
        self.all(
            "SELECT app_id FROM business_apps WHERE business_id = ?1 ORDER BY app_id",
            params![business],
            |row| row.get(0),
        )
    }

    fn is_app_enabled(&mut self, business: BusinessId, app: ApplicationId) -> Result<bool> {
        self.exists(
            "SELECT 1 FROM business_apps WHERE business_id = ?1 AND app_id = ?2",
            params![business, app],
        )
    }

    fn set_business_admin(
        &mut self,
        business: BusinessId,
        user: UserId,
        admin: bool,
    ) -> Result<()> {
        let sql = if admin {
            "INSERT OR IGNORE INTO business_admins (business_id, user_id) VALUES (?1, ?2)"
        } else {
            "DELETE FROM business_admins WHERE business_id = ?1 AND user_id = ?2"
        };
        self.exec(sql, params![business, user])?;
        Ok(())
    }

    fn is_business_admin(&mut self, business: BusinessId, user: UserId) -> Result<bool> {
        self.exists(
            "SELECT 1 FROM business_admins WHERE business_id = ?1 AND user_id = ?2",
            params![business, user],
        )
    }

    fn admin_businesses(&mut self, user: UserId) -> Result<Vec<BusinessId>> {
        self.all(
            "SELECT business_id FROM business_admins WHERE user_id = ?1 ORDER BY business_id",
            params![user],
            |row| row.get(0),
        )
    }
}
