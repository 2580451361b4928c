//! Rows an organization owns under a text id (webhook endpoints, alert channels and rules):
//! read, listed and deleted the same way, always within the organization.

use sqlx::any::AnyRow;

use super::{Store, WriteTx};
use crate::model::OrgId;
use crate::Result;

impl Store {
    /// Every row of `org` in `table`, oldest first.
    pub(super) async fn owned_rows(&self, table: &str, columns: &str, org: &OrgId) -> Result<Vec<AnyRow>> {
        let sql = format!("SELECT {columns} FROM {table} WHERE org_id = $1 ORDER BY created_at");
        Ok(sqlx::query(&sql).bind(org.to_string()).fetch_all(&self.pool).await?)
    }

    /// Row `id` of `org` in `table`.
    pub(super) async fn owned_row(&self, table: &str, columns: &str, org: &OrgId, id: &str) -> Result<Option<AnyRow>> {
        let sql = format!("SELECT {columns} FROM {table} WHERE org_id = $1 AND id = $2");
        Ok(sqlx::query(&sql).bind(org.to_string()).bind(id).fetch_optional(&self.pool).await?)
    }

    /// Deletes row `id` of `org` from `table`; whether there was one.
    pub(super) async fn delete_owned(&self, tx: &mut WriteTx, table: &str, org: &OrgId, id: &str) -> Result<bool> {
        let sql = format!("DELETE FROM {table} WHERE org_id = $1 AND id = $2");
        let done = sqlx::query(&sql).bind(org.to_string()).bind(id).execute(&mut **tx).await?.rows_affected();
        Ok(done > 0)
    }

    /// `select` (ending in `org_id IN`) over the organizations `orgs`.
    pub(super) async fn rows_of_orgs(&self, tx: &mut WriteTx, select: &str, orgs: &[String]) -> Result<Vec<AnyRow>> {
        let sql = format!("{select} {}", self.values_list(1, orgs.len(), 1));
        let mut query = sqlx::query(&sql);
        for org in orgs {
            query = query.bind(org.as_str());
        }
        Ok(query.fetch_all(&mut **tx).await?)
    }
}
