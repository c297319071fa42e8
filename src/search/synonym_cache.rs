//! The editors' synonym groups, kept per node for one content version. Every change to the
//! groups writes a content event in its transaction (like any change the public can see), so
//! groups read under a version stay right until the version moves: a search then costs no query
//! for them, and a change reaches every node as pages do (within the page cache's watch).

use std::sync::{Arc, Mutex};

use super::query::Synonyms;

#[derive(Default)]
pub struct SynonymCache(Mutex<Option<(i64, Arc<Synonyms>)>>);

impl SynonymCache {
    /// The groups read under `version`, if those are the ones held.
    pub fn get(&self, version: i64) -> Option<Arc<Synonyms>> {
        self.lock()
            .as_ref()
            .filter(|(v, _)| *v == version)
            .map(|(_, s)| s.clone())
    }

    /// Keeps groups read after `version` was current: a change committed meanwhile has a newer
    /// version, so the next search reads again.
    pub fn put(&self, version: i64, synonyms: Arc<Synonyms>) {
        let mut held = self.lock();
        if held.as_ref().is_none_or(|(v, _)| *v <= version) {
            *held = Some((version, synonyms));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(i64, Arc<Synonyms>)>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_held_for_their_version_only_and_never_replaced_by_older_ones() {
        let cache = SynonymCache::default();
        assert!(cache.get(1).is_none());
        let one = Arc::new(Synonyms::new(vec![vec![
            "恋人".into(),
            "パートナー".into(),
        ]]));
        cache.put(1, one.clone());
        assert!(Arc::ptr_eq(&cache.get(1).expect("held"), &one));
        assert!(cache.get(2).is_none(), "a newer version reads again");
        let two = Arc::new(Synonyms::default());
        cache.put(2, two.clone());
        // A slow reader that began under version 1 finishes late: it does not win.
        cache.put(1, one);
        assert!(Arc::ptr_eq(&cache.get(2).expect("held"), &two));
        assert!(cache.get(1).is_none());
    }
}
