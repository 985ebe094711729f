//! Metered usage: what each tenant consumed, measured in the units the plans price.
//!
//! The orchestrator records a [`UsageEvent`] in the same store transaction that completes a
//! job, so usage is counted exactly once per completed job. Monthly quotas read it back
//! through [`BillingPeriod`]. Pricing, the double-entry ledger and invoices build on these
//! records.
//!
//! ```
//! use ace_finance::{BillingPeriod, Metric};
//! let at = chrono::DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z").unwrap().to_utc();
//! let period = BillingPeriod::containing(at);
//! assert_eq!(period.start.to_rfc3339(), "2026-11-01T00:00:00+00:00");
//! assert_eq!(period.end.to_rfc3339(), "2026-12-01T00:00:00+00:00");
//! assert_eq!(Metric::PagesFetched.as_str(), "pages_fetched");
//! ```

use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// A unit of metered usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Pages fetched over plain HTTP.
    PagesFetched,
    /// Pages rendered in a browser.
    PagesRendered,
    /// Bytes written into replicas.
    BytesReplicated,
    /// Seconds of browser time.
    RenderSeconds,
}

impl Metric {
    /// Every metric.
    pub const ALL: [Metric; 4] =
        [Metric::PagesFetched, Metric::PagesRendered, Metric::BytesReplicated, Metric::RenderSeconds];

    /// The stored identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::PagesFetched => "pages_fetched",
            Metric::PagesRendered => "pages_rendered",
            Metric::BytesReplicated => "bytes_replicated",
            Metric::RenderSeconds => "render_seconds",
        }
    }

    /// Parses a stored identifier.
    pub fn from_id(id: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.as_str() == id)
    }

    /// Whether this metric counts against the plan's monthly page quota.
    pub fn counts_as_pages(self) -> bool {
        matches!(self, Metric::PagesFetched | Metric::PagesRendered)
    }
}

/// One measured quantity, attributed to a tenant and a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageEvent {
    /// Which unit.
    pub metric: Metric,
    /// How many of it (integer units: pages, bytes, seconds).
    pub quantity: i64,
}

/// A calendar month in UTC, `[start, end)`: the window of monthly quotas and invoices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BillingPeriod {
    /// First instant of the month.
    pub start: DateTime<Utc>,
    /// First instant of the next month.
    pub end: DateTime<Utc>,
}

impl BillingPeriod {
    /// The month that contains `at`.
    pub fn containing(at: DateTime<Utc>) -> BillingPeriod {
        let start = Utc.with_ymd_and_hms(at.year(), at.month(), 1, 0, 0, 0).unwrap();
        let (y, m) = if at.month() == 12 { (at.year() + 1, 1) } else { (at.year(), at.month() + 1) };
        let end = Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).unwrap();
        BillingPeriod { start, end }
    }
}

/// Usage summed per metric over a window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageSummary {
    /// Pages fetched over HTTP.
    pub pages_fetched: i64,
    /// Pages rendered in a browser.
    pub pages_rendered: i64,
    /// Bytes written into replicas.
    pub bytes_replicated: i64,
    /// Seconds of browser time.
    pub render_seconds: i64,
}

impl UsageSummary {
    /// Adds `quantity` of `metric`.
    pub fn add(&mut self, metric: Metric, quantity: i64) {
        match metric {
            Metric::PagesFetched => self.pages_fetched += quantity,
            Metric::PagesRendered => self.pages_rendered += quantity,
            Metric::BytesReplicated => self.bytes_replicated += quantity,
            Metric::RenderSeconds => self.render_seconds += quantity,
        }
    }

    /// Pages that count against the monthly quota.
    pub fn pages(&self) -> i64 {
        self.pages_fetched + self.pages_rendered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn december_rolls_into_next_year() {
        let at = Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 59).unwrap();
        let p = BillingPeriod::containing(at);
        assert_eq!(p.start, Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap());
        assert_eq!(p.end, Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap());
        assert!(p.start <= at && at < p.end);
    }

    #[test]
    fn summary_counts_pages_from_both_page_metrics() {
        let mut s = UsageSummary::default();
        s.add(Metric::PagesFetched, 3);
        s.add(Metric::PagesRendered, 2);
        s.add(Metric::BytesReplicated, 1000);
        assert_eq!(s.pages(), 5);
        assert!(Metric::PagesFetched.counts_as_pages() && !Metric::BytesReplicated.counts_as_pages());
        for m in Metric::ALL {
            assert_eq!(Metric::from_id(m.as_str()), Some(m));
        }
    }
}
