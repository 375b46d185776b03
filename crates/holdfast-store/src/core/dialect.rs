//! The spellings that differ between SQLite and PostgreSQL, all in one place.
//! Everything else (booleans, upserts, `RETURNING`, id generation) is written
//! the same for both; see the conventions in `core/mod.rs`.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// `col` is one of the ids bound (as [`super::Arg::Ids`]) at parameter `n`.
    /// PostgreSQL binds an array; SQLite a JSON array it unpacks. Either way
    /// the SQL text does not depend on how many ids there are, so it is
    /// prepared once.
    pub fn in_ids(self, col: &str, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("{col} IN (SELECT value FROM json_each(?{n}))"),
            Dialect::Postgres => format!("{col} = ANY(?{n})"),
        }
    }

    /// The ids bound (as [`super::Arg::Ids`]) at parameter `n` as a table
    /// named `alias` with one column, `value`, to join from:
    /// `FROM {ids} CROSS JOIN t WHERE t.id = alias.value` (the `CROSS JOIN`
    /// keeps SQLite walking the list and probing `t`, never the reverse).
    /// On SQLite it costs less than [`Dialect::in_ids`]: `IN (SELECT …)` first
    /// copies the list into a temporary b-tree with a page cache of its own,
    /// once per use (malloc inside SQLite was 10-15 % of a home page's CPU;
    /// bench/perf, session 11). Unlike `IN`, a join keeps duplicates.
    pub fn ids_table(self, n: usize, alias: &str) -> String {
        match self {
            Dialect::Sqlite => format!("json_each(?{n}) AS {alias}"),
            Dialect::Postgres => format!("unnest(?{n}::BIGINT[]) AS {alias}(value)"),
        }
    }

    /// `col` is one of the strings bound (as [`super::Arg::Texts`]) at parameter `n`.
    pub fn in_texts(self, col: &str, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("{col} IN (SELECT value FROM json_each(?{n}))"),
            Dialect::Postgres => format!("{col} = ANY(?{n}::TEXT[])"),
        }
    }
}

/// A full-text match of the statuses aliased `s`, in the dialect's engine:
/// FTS5 on SQLite, the `search` tsvector column on PostgreSQL.
pub struct TextMatch {
    /// What to select from (`statuses s` and the index, if separate).
    pub from: &'static str,
    /// The match condition; its parameters are `?2` and on.
    pub condition: &'static str,
    /// The parameter values, in order.
    pub text: String,
    pub words: Vec<String>,
}

impl TextMatch {
    pub fn args(&self) -> Vec<super::Arg<'_>> {
        let mut args = vec![super::Arg::Text(&self.text)];
        if !self.words.is_empty() {
            args.push(super::Arg::Texts(&self.words));
        }
        args
    }
}

impl Dialect {
    /// Names the index a query on a table must use (after the table and its
    /// alias). Only for SQLite, whose planner, without statistics on a queue
    /// table, prefers an equality on another index and sorts every row of it
    /// (`bench/perf/post-plans.sql`); PostgreSQL's planner chooses well.
    pub fn indexed_by(self, index: &str) -> String {
        match self {
            Dialect::Sqlite => format!(" INDEXED BY {index}"),
            Dialect::Postgres => String::new(),
        }
    }

    /// The lock that orders a post's "any built follower?" decision
    /// (`home_feed::fan_out`) against the opening of a feed to fan-out
    /// (`home_feed::open`), on PostgreSQL; SQLite's one writer orders them
    /// anyway. A post takes it shared, in a statement before the one that
    /// decides (this is a term for that statement's select list, so it
    /// costs no round trip of its own), and holds it until it commits. Fan-out copies a post only
    /// into open feeds (a feed is built on its owner's first home read:
    /// most followers on a large instance never open home, and each row is a
    /// dirty index page), so under read committed a post that decided "no
    /// open feed" before a feed opened, and committed after the snapshot
    /// that fills the feed from history, would reach neither. See
    /// [`Dialect::feed_open_barrier`] for the other side.
    pub fn fan_out_decision_lock(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            // Key: "homefeed" in ASCII. The function returns void: the term
            // is a boolean nobody reads.
            Dialect::Postgres => ", pg_advisory_xact_lock_shared(7525353784636433764) IS NULL",
        }
    }

    /// The barrier a feed build passes between opening the feed and filling
    /// it, in a transaction of its own: the decision lock, taken alone and
    /// let go at once (at that transaction's commit). It returns once every
    /// post that decided before the open was visible has committed, so the
    /// fill, from a later snapshot, has those posts; a post that decides
    /// after it sees the feed open and queues its job. Posts never wait for
    /// a fill (only, while a barrier waits, for the posts ahead of it), and
    /// builds of different feeds never wait for each other's fills.
    /// Fan-out batches need no lock: a batch runs after its post committed,
    /// and either sees the feed open (and copies) or ran before it opened
    /// (and the fill, later, has the post).
    pub fn feed_open_barrier(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some("SELECT pg_advisory_xact_lock(7525353784636433764)"),
        }
    }

    /// `col` compared in byte order (SQLite's default; PostgreSQL's `"C"` collation).
    pub fn byte_order(self, col: &str) -> String {
        match self {
            Dialect::Sqlite => col.to_owned(),
            Dialect::Postgres => format!("{col} COLLATE \"C\""),
        }
    }

    /// ` FOR UPDATE OF {alias}` where rows are locked by a read (PostgreSQL,
    /// several writers); nothing on SQLite, whose one writer excludes the others.
    pub fn for_update(self, alias: &str) -> String {
        match self {
            Dialect::Sqlite => String::new(),
            Dialect::Postgres => format!(" FOR UPDATE OF {alias}"),
        }
    }

    /// As `for_update`, skipping rows another transaction holds (two
    /// PostgreSQL nodes sweeping at once take different rows).
    pub fn for_update_skip_locked(self, alias: &str) -> String {
        match self {
            Dialect::Sqlite => String::new(),
            Dialect::Postgres => format!(" FOR UPDATE OF {alias} SKIP LOCKED"),
        }
    }

    /// The statement that adds a status's text to the search index (`?1`
    /// the status id, `?2` the text), where the index is kept by hand;
    /// PostgreSQL's is a generated column. On SQLite it is queued for the
    /// end of the transaction (migration 0028: one index segment per
    /// group commit, not per post); an edit queued twice keeps its last text.
    pub fn search_index_add(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => Some(
                "INSERT INTO status_search_queue (status_id, body) VALUES (?1, ?2) \
                 ON CONFLICT (status_id) DO UPDATE SET body = excluded.body",
            ),
            Dialect::Postgres => None,
        }
    }

    /// The statement that removes status `?1` from a by-hand search index.
    /// One still queued (posted in the same transaction) is not in the index
    /// yet, which FTS5 ignores; its queued entry goes with its row (cascade).
    pub fn search_index_remove(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => Some("DELETE FROM status_search WHERE rowid = ?1"),
            Dialect::Postgres => None,
        }
    }

    /// The match for a user's query: every word must occur. None when the
    /// query has no word to look for. User input is only ever a parameter,
    /// and reaches each engine as plain text, never as query syntax.
    pub fn text_match(self, query: &str) -> Option<TextMatch> {
        match self {
            // Each word a quoted phrase, so FTS5 syntax in user input
            // (`NEAR`, `*`, `:`) is matched literally instead of being interpreted.
            Dialect::Sqlite => {
                let phrases = query
                    .split_whitespace()
                    .map(|word| format!("\"{}\"", word.replace('"', "\"\"")))
                    .collect::<Vec<_>>()
                    .join(" ");
                (!phrases.is_empty()).then(|| TextMatch {
                    from: "status_search f JOIN statuses s ON s.id = f.rowid",
                    condition: "status_search MATCH ?2",
                    text: phrases,
                    words: Vec::new(),
                })
            }
            // A word that splits into several tokens (`state-of-the-art`)
            // is a phrase, and a word with no token at all (`&`) is ignored.
            // The `plainto_tsquery` prefilter (all tokens present) is what
            // the GIN index answers; the per-word phrase check then runs on
            // those candidates only. Both functions take plain text.
            Dialect::Postgres => {
                let words: Vec<String> = query
                    .split_whitespace()
                    .map(split_like_index)
                    .filter(|w| !w.is_empty())
                    .collect();
                (!words.is_empty()).then(|| TextMatch {
                    from: "statuses s",
                    condition: "s.search @@ plainto_tsquery('simple', ?2) \
                        AND NOT EXISTS (SELECT 1 FROM unnest(?3::TEXT[]) w \
                                        WHERE NOT s.search @@ phraseto_tsquery('simple', w))",
                    text: words.join(" "),
                    words,
                })
            }
        }
    }
}

/// The query side of PostgreSQL's `search` column rule: ASCII punctuation is a separator.
fn split_like_index(word: &str) -> String {
    word.split(|c: char| c.is_ascii_punctuation())
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_words_split_on_ascii_punctuation() {
        assert_eq!(split_like_index("of-the"), "of the");
        assert_eq!(split_like_index("&"), "");
        assert_eq!(split_like_index("!fox:*"), "fox");
        assert_eq!(split_like_index("café"), "café");
    }

    #[test]
    fn fts5_syntax_in_a_query_is_quoted() {
        let m = Dialect::Sqlite.text_match("a\"b NEAR").unwrap();
        assert_eq!(m.text, "\"a\"\"b\" \"NEAR\"");
        assert!(Dialect::Sqlite.text_match("   ").is_none());
        assert!(Dialect::Postgres.text_match("& !").is_none());
    }
}
