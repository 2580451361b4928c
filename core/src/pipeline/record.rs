//! The recording step: a batch of finished evaluations written with everything they cause, in
//! one transaction. The store writes; `sinks` and `live` work out what to write (the webhooks,
//! the alert hits, the live-feed events). Nothing acknowledged is lost between the result and
//! its messages: both commit, or neither does (the transactional outbox).

use std::collections::HashSet;

use crate::live;
use crate::model::{Evaluation, LiveEvent, OrgId};
use crate::sinks::{alerts, route, Links};
use crate::store::{ClaimedJob, Store};
use crate::Result;

/// Records `done` and removes their jobs. Returns the new evaluations (not those recorded
/// before) as live-feed events; on Postgres they are also sent to every listening process when
/// the transaction commits.
pub async fn record(
    store: &Store,
    links: &Links,
    done: &[(ClaimedJob, Evaluation)],
) -> Result<Vec<(OrgId, LiveEvent)>> {
    if done.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = store.begin_write().await?;
    let recorded = store.insert_evaluations(&mut tx, done).await?;
    let events = live::events(&recorded);

    let orgs: Vec<OrgId> = recorded.iter().map(|r| r.job.org_id.clone()).collect::<HashSet<_>>().into_iter().collect();
    if !orgs.is_empty() {
        let subscriptions = store.subscriptions_in(&mut tx, &orgs).await?;
        let rules = store.rules_in(&mut tx, &orgs).await?;
        if !subscriptions.is_empty() || !rules.is_empty() {
            let routed = route::evaluations(&recorded, &subscriptions, &rules, links)?;
            store.enqueue(&mut tx, &routed.messages).await?;
            alerts::count_hits_in(store, &mut tx, routed.hits, links).await?;
        }
    }
    store.notify_on_commit(&mut tx, live::CHANNEL, || live::notify_payloads(&events)).await?;
    store.delete_jobs(&mut tx, done).await?;
    tx.commit().await?;
    Ok(events)
}
