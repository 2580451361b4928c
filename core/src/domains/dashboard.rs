//! A domain's dashboard: its figures and the panels its pack lays out, from the rollups.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::Domain;
use crate::model::{DomainDashboard, FacetCount, OrgId, Panel, PNL_BUCKETS};
use crate::store::Store;
use crate::Result;

/// Values shown per facet.
const PER_FACET: usize = 25;

pub async fn dashboard(
    store: &Store,
    org: &OrgId,
    domain: &Domain,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<DomainDashboard> {
    let name = domain.name();
    let overview = store.overview(org, from, to, Some(name)).await?;
    let counts = store.facets(org, from, to, name, PER_FACET).await?;
    let panels = domain
        .spec
        .dashboard
        .panels
        .iter()
        .map(|p| Panel { title: p.title.clone(), facets: p.facets.clone(), rows: merge(&p.facets, &counts) })
        .collect();
    Ok(DomainDashboard { domain: name.to_string(), title: domain.spec.title.clone(), overview, panels })
}

/// The rows of `facets`, summed by value: most traces first, PnL buckets in their order.
fn merge(facets: &[String], counts: &[FacetCount]) -> Vec<FacetCount> {
    let mut by_value: BTreeMap<&str, FacetCount> = BTreeMap::new();
    for c in counts.iter().filter(|c| facets.contains(&c.facet)) {
        let row =
            by_value.entry(&c.value).or_insert_with(|| FacetCount { traces: 0, flagged: 0, amount: 0, ..c.clone() });
        row.traces += c.traces;
        row.flagged += c.flagged;
        row.amount += c.amount;
    }
    let mut rows: Vec<FacetCount> = by_value.into_values().collect();
    if facets.iter().all(|f| f == "pnl") {
        rows.sort_by_key(|r| PNL_BUCKETS.iter().position(|b| *b == r.value));
    } else {
        rows.sort_by(|a, b| b.traces.cmp(&a.traces).then_with(|| a.value.cmp(&b.value)));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(facet: &str, value: &str, traces: i64) -> FacetCount {
        FacetCount { facet: facet.into(), value: value.into(), traces, flagged: traces, amount: 0 }
    }

    #[test]
    fn panels_sum_their_facets_by_value() {
        let counts = [
            count("issue.medication_overdose", "acetaminophen", 3),
            count("issue.weekly_drug_given_daily", "methotrexate", 5),
            count("issue.medication_overdose", "methotrexate", 1),
            count("meta.specialty", "cardiology", 9),
        ];
        let facets = ["issue.medication_overdose".to_string(), "issue.weekly_drug_given_daily".to_string()];
        let rows = merge(&facets, &counts);
        assert_eq!(
            rows.iter().map(|r| (r.value.as_str(), r.traces)).collect::<Vec<_>>(),
            [("methotrexate", 6), ("acetaminophen", 3)]
        );
        let pnl =
            merge(&["pnl".into()], &[count("pnl", "> 10k", 9), count("pnl", "< -10k", 1), count("pnl", "0 to 100", 4)]);
        assert_eq!(pnl.iter().map(|r| r.value.as_str()).collect::<Vec<_>>(), ["< -10k", "0 to 100", "> 10k"]);
    }
}
