//! On-disk cache of LookupEvents pages, so an interrupted run resumes where it stopped and a
//! re-run over overlapping dates fetches only what it does not have.
//!
//! Layout: `<dir>/lookup/<account>/<region>/<YYYY-MM-DD>/page-00000.json` ... one file per page
//! fetched for that UTC day, each `{"events": [CloudTrailEvent strings], "next_token": ...}`,
//! and `complete` once the last page of a day that can no longer change was fetched. Pages are
//! written to a temporary name and renamed, so a killed run never leaves half a page.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One cached page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CachedPage {
    /// `Events[].CloudTrailEvent` of the page, as returned.
    pub events: Vec<String>,
    /// The token for the next page, `None` after the last.
    pub next_token: Option<String>,
}

/// The cache of one account and region.
#[derive(Debug, Clone)]
pub struct PageCache {
    dir: Option<PathBuf>,
}

/// What the cache holds for one day.
#[derive(Debug, Default)]
pub struct DayState {
    /// Pages already fetched, in order.
    pub pages: Vec<CachedPage>,
    /// True when every page of the day is there and the day is over.
    pub complete: bool,
}

impl PageCache {
    /// A cache under `root` for one account and region; `None` disables caching.
    pub fn new(root: Option<&Path>, account: &str, region: &str) -> PageCache {
        PageCache { dir: root.map(|r| r.join("lookup").join(sanitize(account)).join(sanitize(region))) }
    }

    /// The default cache root: `$XDG_CACHE_HOME/iamtrim`, else `~/.cache/iamtrim`
    /// (`~/Library/Caches/iamtrim` on macOS).
    pub(crate) fn default_root() -> Option<PathBuf> {
        if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|x| !x.is_empty()) {
            return Some(PathBuf::from(x).join("iamtrim"));
        }
        let home = PathBuf::from(std::env::var_os("HOME")?);
        Some(if cfg!(target_os = "macos") { home.join("Library/Caches/iamtrim") } else { home.join(".cache/iamtrim") })
    }

    fn day_dir(&self, day: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(day))
    }

    /// Reads what is cached for `day` (`YYYY-MM-DD`). Unreadable pages end the list there: the
    /// day resumes from the last good page.
    pub fn load(&self, day: &str) -> DayState {
        let Some(dir) = self.day_dir(day) else { return DayState::default() };
        let mut state = DayState::default();
        for i in 0.. {
            let Ok(text) = fs::read_to_string(dir.join(page_name(i))) else { break };
            match serde_json::from_str::<CachedPage>(&text) {
                Ok(p) => state.pages.push(p),
                Err(_) => break,
            }
        }
        state.complete = dir.join("complete").exists() && state.pages.last().is_some_and(|p| p.next_token.is_none());
        state
    }

    /// Stores page `index` of `day`.
    pub fn store(&self, day: &str, index: usize, page: &CachedPage) -> io::Result<()> {
        let Some(dir) = self.day_dir(day) else { return Ok(()) };
        crate::private_files::create_dir_all(&dir)?;
        let tmp = dir.join(format!(".{}.tmp", page_name(index)));
        crate::private_files::write(&tmp, &serde_json::to_vec(page).map_err(io::Error::other)?)?;
        fs::rename(tmp, dir.join(page_name(index)))
    }

    /// Marks `day` complete: its pages are final and later runs read them without fetching.
    pub(crate) fn mark_complete(&self, day: &str) -> io::Result<()> {
        let Some(dir) = self.day_dir(day) else { return Ok(()) };
        crate::private_files::create_dir_all(&dir)?;
        crate::private_files::write(&dir.join("complete"), b"")
    }

    /// Forgets `day` (its pages can no longer be continued).
    pub(crate) fn clear(&self, day: &str) -> io::Result<()> {
        match self.day_dir(day) {
            Some(dir) if dir.exists() => fs::remove_dir_all(dir),
            _ => Ok(()),
        }
    }
}

fn page_name(i: usize) -> String {
    format!("page-{i:05}.json")
}

fn sanitize(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_round_trip_and_complete_needs_the_last_page() {
        let dir = tempfile::tempdir().unwrap();
        let c = PageCache::new(Some(dir.path()), "123456789012", "us-east-1");
        assert!(c.load("2026-10-01").pages.is_empty());
        let p0 = CachedPage { events: vec!["{}".into()], next_token: Some("t1".into()) };
        c.store("2026-10-01", 0, &p0).unwrap();
        c.mark_complete("2026-10-01").unwrap();
        let s = c.load("2026-10-01");
        assert_eq!(s.pages, vec![p0.clone()]);
        assert!(!s.complete, "a day whose last page has a next token is not complete");
        let p1 = CachedPage { events: vec![], next_token: None };
        c.store("2026-10-01", 1, &p1).unwrap();
        let s = c.load("2026-10-01");
        assert_eq!(s.pages.len(), 2);
        assert!(s.complete);
        c.clear("2026-10-01").unwrap();
        assert!(c.load("2026-10-01").pages.is_empty());
        let off = PageCache::new(None, "a", "r");
        off.store("d", 0, &p0).unwrap();
        assert!(off.load("d").pages.is_empty());
    }
}
