//! The agents of the web-automation studio and the log of what they did.
//!
//! Every step of every job is an agent task: the orchestrator asks [`Agent::for_job_kind`]
//! which agent owns a job, opens a [`TaskStatus::Running`] task when a worker claims it and
//! closes it with the outcome. The store keeps the log; this crate owns the vocabulary, so
//! the dashboard, the API and the finance reports all name agents the same way.
//!
//! ```
//! use ace_agents::Agent;
//! assert_eq!(Agent::for_job_kind("scrape"), Some(Agent::Scraper));
//! assert_eq!(Agent::Scraper.name(), "Scraper");
//! ```

use serde::{Deserialize, Serialize};

/// One of the studio's named agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agent {
    /// Runs the pooled headless browsers: renders, screenshots, PDFs, CDP sessions.
    BrowserOrchestrator,
    /// Discovers a site's shape: robots.txt, sitemaps, URL maps.
    SiteAnalyzer,
    /// Copies whole sites for offline use and archives them.
    ReplicationEngine,
    /// Turns HTML into main content, Markdown, text, metadata.
    ContentExtractor,
    /// Checks copies against their originals.
    QualityAssurance,
    /// Fetches pages and crawls sites.
    Scraper,
}

impl Agent {
    /// Every agent, in the order the registry lists them.
    pub const ALL: [Agent; 6] = [
        Agent::BrowserOrchestrator,
        Agent::SiteAnalyzer,
        Agent::ReplicationEngine,
        Agent::ContentExtractor,
        Agent::QualityAssurance,
        Agent::Scraper,
    ];

    /// The agent's display name.
    pub fn name(self) -> &'static str {
        match self {
            Agent::BrowserOrchestrator => "Browser Orchestrator",
            Agent::SiteAnalyzer => "Site Analyzer",
            Agent::ReplicationEngine => "Replication Engine",
            Agent::ContentExtractor => "Content Extractor",
            Agent::QualityAssurance => "Quality Assurance",
            Agent::Scraper => "Scraper",
        }
    }

    /// The stable identifier stored in the task log.
    pub fn id(self) -> &'static str {
        match self {
            Agent::BrowserOrchestrator => "browser_orchestrator",
            Agent::SiteAnalyzer => "site_analyzer",
            Agent::ReplicationEngine => "replication_engine",
            Agent::ContentExtractor => "content_extractor",
            Agent::QualityAssurance => "quality_assurance",
            Agent::Scraper => "scraper",
        }
    }

    /// What the agent does, for the registry listing.
    pub fn role(self) -> &'static str {
        match self {
            Agent::BrowserOrchestrator => "runs pooled headless Chromium: renders, screenshots, PDFs and CDP sessions",
            Agent::SiteAnalyzer => "discovers a site's URLs from robots.txt, sitemaps and links",
            Agent::ReplicationEngine => "copies sites for offline use and writes archives",
            Agent::ContentExtractor => "turns HTML into main content, Markdown, text and metadata",
            Agent::QualityAssurance => "compares copies with their originals",
            Agent::Scraper => "fetches pages and crawls sites",
        }
    }

    /// Parses a stored identifier.
    pub fn from_id(id: &str) -> Option<Agent> {
        Agent::ALL.into_iter().find(|a| a.id() == id)
    }

    /// The agent that owns a job of the given kind.
    pub fn for_job_kind(kind: &str) -> Option<Agent> {
        Some(match kind {
            "scrape" | "crawl" => Agent::Scraper,
            "map" => Agent::SiteAnalyzer,
            "replicate" => Agent::ReplicationEngine,
            "extract" => Agent::ContentExtractor,
            "screenshot" | "pdf" => Agent::BrowserOrchestrator,
            _ => return None,
        })
    }
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// A worker is on it.
    Running,
    /// It finished and did what was asked.
    Succeeded,
    /// It finished without success (the job may be retried as a new task).
    Failed,
    /// The job was cancelled or handed back before the task ended.
    Abandoned,
}

impl TaskStatus {
    /// The stored identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Running => "running",
            TaskStatus::Succeeded => "succeeded",
            TaskStatus::Failed => "failed",
            TaskStatus::Abandoned => "abandoned",
        }
    }
}

/// One step of one job, as the task log keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Task {
    /// Task id.
    pub id: String,
    /// The job the task belongs to.
    pub job_id: String,
    /// Which agent ran it.
    pub agent: Agent,
    /// The job attempt this task was (1 for the first try).
    pub attempt: i64,
    /// Where it stands.
    pub status: TaskStatus,
    /// When it started.
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// When it ended, if it has.
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Milliseconds it ran, once ended.
    pub duration_ms: Option<i64>,
    /// What came of it: an error code or a short summary.
    pub outcome: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_unique() {
        for agent in Agent::ALL {
            assert_eq!(Agent::from_id(agent.id()), Some(agent));
        }
        let mut ids: Vec<_> = Agent::ALL.iter().map(|a| a.id()).collect();
        ids.dedup();
        assert_eq!(ids.len(), Agent::ALL.len());
    }

    #[test]
    fn every_job_kind_has_an_owner() {
        for kind in ["scrape", "crawl", "map", "replicate", "extract", "screenshot", "pdf"] {
            assert!(Agent::for_job_kind(kind).is_some(), "{kind}");
        }
        assert_eq!(Agent::for_job_kind("mine-bitcoin"), None);
    }
}
